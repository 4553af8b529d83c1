#pragma once
// What the command-line tests share: run a command as CI does (stdin /dev/null, no terminal) and collect its
// exit status, standard output and standard error; read and write files; validate a report against the schema.
// Header-only: each test target defines PROBE_PYTHON3, PROBE_VALIDATOR and PROBE_SCHEMA where it validates.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace probe_test {

struct Result {
  int status = -1;  // the exit status, or 128 + the signal that ended it
  std::string out, err;
};

// A folder of this test process's own under the temporary folder: "<tmp>/probe_test_<tag>_<pid>".
inline std::filesystem::path work_dir(std::string_view tag) {
  std::filesystem::path d =
      std::filesystem::temp_directory_path() / ("probe_test_" + std::string(tag) + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

inline void write_text(const std::filesystem::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Runs `cmdline` through the shell (the caller quotes); standard error goes through a file in `dir`.
inline Result run_command(const std::string& cmdline, const std::filesystem::path& dir) {
  const std::filesystem::path err = dir / "stderr.txt";
  const std::string cmd = cmdline + " </dev/null 2>" + err.string();
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.err = slurp(err);
  return r;
}

#if defined(PROBE_PYTHON3) && defined(PROBE_VALIDATOR) && defined(PROBE_SCHEMA)
// 0 when `file` is valid against the report schema (tests/tools/validate_report.py).
inline int validate(const std::filesystem::path& file) {
  const std::string cmd = std::string(PROBE_PYTHON3) + " " + PROBE_VALIDATOR + " " + PROBE_SCHEMA + " " + file.string();
  return std::system(cmd.c_str());
}
#endif

}  // namespace probe_test
