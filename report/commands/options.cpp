#include "options.hpp"

#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <system_error>

#include "probe/error.hpp"

namespace probe::cli {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = s.find(',', start);
    std::string item = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

report::AssessmentOptions assessment_options(const Options& o) {
  report::AssessmentOptions a;
  a.ruleset_ids = split_list(o.rulesets);
  a.rules_files = o.rules_files;
  if (!o.chipdb.empty()) a.chipdb_file = o.chipdb;
  if (o.die_area > 0) a.overrides.die_area_mm2 = o.die_area;
  if (o.derive_clock > 0) a.overrides.derive_clock_mhz = o.derive_clock;
  if (!o.datacenter.empty()) {
    if (o.datacenter != "yes" && o.datacenter != "no") {
      throw InputError(fmt::format("--datacenter: '{}' is not yes or no", o.datacenter));
    }
    a.overrides.datacenter = o.datacenter == "yes";
  }
  if (!o.vector_processor.empty()) {
    if (o.vector_processor != "yes" && o.vector_processor != "no") {
      throw InputError(fmt::format("--vector-processor: '{}' is not yes or no", o.vector_processor));
    }
    a.overrides.vector_processor = o.vector_processor == "yes";
  }
  if (o.envelope_ft3 > 0) a.overrides.envelope_ft3 = o.envelope_ft3;
  for (auto j : split_list(o.jurisdictions)) {
    for (char& c : j) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    a.jurisdictions.push_back(j);
  }
  return a;
}

void emit(const Outputs& outputs, std::string_view text_out, const nlohmann::json& doc,
          const std::function<std::string(report::Format)>& view) {
  emit_outputs(outputs, [&](report::Format f) {
    if (f == report::Format::json) return doc.dump(2) + "\n";
    if (f == report::Format::text) return std::string(text_out);
    return view(f);
  });
}

report::PrintContext print_context(std::string title, report::Format f) {
  report::PrintContext ctx;
  ctx.title = std::move(title);
  if (f == report::Format::html || f == report::Format::markdown) ctx.binary_sha256 = binary_sha256();
  ctx.signature = "not signed (a report as written by this run)";
  return ctx;
}

std::string exe_path(const char* argv0) {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : p.string();
}

}  // namespace probe::cli
