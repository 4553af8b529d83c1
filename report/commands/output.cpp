#include "output.hpp"

#include <fmt/format.h>
#include <fstream>
#include <iterator>

#include "probe/error.hpp"
#include "rules.hpp"

namespace probe::cli {

Outputs resolve_outputs(std::string_view format, const std::vector<std::string>& out_files, const std::string& json_file) {
  Outputs o;
  const auto f = report::format_from_string(format);
  if (!f) throw InputError(fmt::format("--format: '{}' is not one of text, json, html, md", format));
  o.stdout_format = *f;
  for (const auto& p : out_files) {
    const auto pf = report::format_from_path(p);
    if (!pf) {
      throw InputError(fmt::format("--out {}: the extension names no format (use .txt, .json, .html or .md)", p));
    }
    report::check_writable(p, "--out");
    o.files.push_back({*pf, p});
  }
  if (!json_file.empty()) {
    report::check_writable(json_file, "--json");
    o.files.push_back({report::Format::json, json_file});
  }
  return o;
}

std::string binary_sha256() {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  if (!in) return {};
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return in.bad() ? std::string() : rules::sha256_hex(bytes);
}

}  // namespace probe::cli
