// Bounded reads of outside files and the JSON nesting check (probe/input_file.hpp).
#include "probe/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "probe/error.hpp"

namespace probe {
namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string limit_text(std::uint64_t max_bytes) {
  if (max_bytes % (std::uint64_t{1} << 20) == 0) return fmt::format("{} MiB", max_bytes >> 20);
  return fmt::format("{} byte", max_bytes);
}

}  // namespace

std::string read_input_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  const std::string name = path.string();
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat could refuse it.
  const Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (f.fd < 0) throw InputError(fmt::format("{}: cannot open for reading: {}", name, std::strerror(errno)));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw InputError(fmt::format("{}: cannot stat: {}", name, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw InputError(fmt::format("{}: not a regular file", name));
  const auto too_large = [&] {
    return InputError(fmt::format("{}: larger than the {} limit", name, limit_text(max_bytes)));
  };
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_bytes) throw too_large();

  // Read to the end rather than trusting st_size: the file may change while it is read. One byte past the
  // limit is enough to know it is too large.
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(fmt::format("{}: read error: {}", name, std::strerror(errno)));
    }
    if (n == 0) break;
    if (text.size() + static_cast<std::size_t>(n) > max_bytes) throw too_large();
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

void check_json_depth(std::string_view text, std::string_view file, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          throw InputError(fmt::format("{}: JSON nested deeper than {} levels (at byte {})", file, max_depth, i));
        }
        break;
      case ']':
      case '}':
        // Unbalanced closers are the parser's to report; never let them buy extra depth.
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
}

void check_xml_depth(std::string_view text, std::string_view file, int max_depth) {
  int depth = 0;
  std::size_t i = 0;
  // Skips past `end` from i; past the end of the text when it never comes.
  const auto skip_to = [&](std::string_view end) {
    const std::size_t at = text.find(end, i);
    i = at == std::string_view::npos ? text.size() : at + end.size();
  };
  while ((i = text.find('<', i)) != std::string_view::npos) {
    const std::string_view rest = text.substr(i);
    if (rest.starts_with("<!--")) {
      skip_to("-->");
    } else if (rest.starts_with("<![CDATA[")) {
      skip_to("]]>");
    } else if (rest.starts_with("<?") || rest.starts_with("<!")) {
      skip_to(">");
    } else if (rest.starts_with("</")) {
      if (depth > 0) --depth;
      skip_to(">");
    } else {
      // An opening tag: find its '>' outside quoted attribute values; "/>" closes it at once.
      const std::size_t start = i;
      char quote = 0;
      std::size_t j = i + 1;
      for (; j < text.size(); ++j) {
        const char c = text[j];
        if (quote != 0) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '>') {
          break;
        }
      }
      const bool self_closing = j < text.size() && text[j - 1] == '/';
      if (!self_closing && ++depth > max_depth) {
        throw InputError(fmt::format("{}: XML nested deeper than {} levels (at byte {})", file, max_depth, start));
      }
      i = j < text.size() ? j + 1 : text.size();
    }
  }
}

}  // namespace probe
