#pragma once
// Where a command's output goes: standard output in --format, and each --out FILE in the format its extension
// names (.txt, .json, .html, .md). Resolved and checked before anything is read or measured.
#include <filesystem>
#include <string>
#include <vector>

#include "printer.hpp"

namespace probe::cli {

struct OutputTarget {
  report::Format format = report::Format::text;
  std::filesystem::path path;
};

struct Outputs {
  report::Format stdout_format = report::Format::text;
  std::vector<OutputTarget> files;  // --out FILE..., then --json FILE (always JSON)
};

// InputError naming the flag and the file: an unknown --format, an --out extension that names no format, a path
// that cannot be written (report::check_writable).
[[nodiscard]] Outputs resolve_outputs(std::string_view format, const std::vector<std::string>& out_files,
                                      const std::string& json_file);

// SHA-256 of the running probe executable (/proc/self/exe), for the header of HTML and Markdown output; empty
// when it cannot be read.
[[nodiscard]] std::string binary_sha256();

// Renders `render(format)` for standard output and for each file; files are written atomically, so a failed
// write leaves nothing behind.
template <class Render>
void emit_outputs(const Outputs& o, Render&& render);

}  // namespace probe::cli

#include <iostream>

#include "json_io.hpp"

namespace probe::cli {
template <class Render>
void emit_outputs(const Outputs& o, Render&& render) {
  for (const auto& f : o.files) report::write_file_atomically(f.path, render(f.format));
  std::cout << render(o.stdout_format);
  std::cout.flush();
}
}  // namespace probe::cli
