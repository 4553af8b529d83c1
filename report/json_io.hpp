#pragma once
// The report as JSON (schema: data/schema/report.schema.json) and back.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "assessment.hpp"
#include "report.hpp"

namespace probe::report {

[[nodiscard]] nlohmann::json to_json(const Report& report);
// The report with its control-parameter assessment: devices[i].control, node_verdicts and provenance. Reading
// it back ignores the assessment (it is a pure function of the rest, recomputed on demand).
[[nodiscard]] nlohmann::json to_json(const Report& report, const Assessment& assessment);
// Throws InputError naming `source` and the field for anything that does not match the schema's shape.
[[nodiscard]] Report report_from_json(const nlohmann::json& j, std::string_view source);
// The same from the text of a recorded report, through the shared JSON parse step (bounded nesting; a syntax
// error names `source`), and from a file through the shared bounded reader (probe/input_file.hpp).
[[nodiscard]] Report report_from_json_text(std::string_view text, std::string_view source);
[[nodiscard]] Report read_report_file(const std::filesystem::path& path);
[[nodiscard]] std::string to_json_text(const Report& report, const Assessment* assessment = nullptr);

// The parts of a report on their own, as the report writes them: what a worker process streams to the parent.
// Readers throw InputError naming `source` and the field.
[[nodiscard]] nlohmann::json to_json(const Measurement& m);
[[nodiscard]] Measurement measurement_from_json(const nlohmann::json& j, std::string_view source,
                                                std::string_view device_kind);
[[nodiscard]] nlohmann::json to_json(const KernelSpec& k);
[[nodiscard]] KernelSpec kernel_spec_from_json(const nlohmann::json& j, std::string_view source);
[[nodiscard]] nlohmann::json to_json(const DeviceInfo& i);
[[nodiscard]] DeviceInfo device_info_from_json(const nlohmann::json& j, std::string_view source);
[[nodiscard]] nlohmann::json to_json(const BackendStatus& b);
[[nodiscard]] BackendStatus backend_status_from_json(const nlohmann::json& j, std::string_view source);
[[nodiscard]] nlohmann::json to_json(const PluginRecord& p);
[[nodiscard]] PluginRecord plugin_record_from_json(const nlohmann::json& j, std::string_view source);
[[nodiscard]] nlohmann::json to_json(const PluginFolder& f);
[[nodiscard]] PluginFolder plugin_folder_from_json(const nlohmann::json& j, std::string_view source);

// Writes atomically: a temporary file beside the target, renamed into place; nothing half-written is left.
// Throws InputError naming the path when it cannot be written.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Checks, before anything is measured, that write_file_atomically(path, …) can succeed: the folder exists and
// takes a new file, and the path is not a folder. Throws InputError naming the path and `flag` otherwise.
void check_writable(const std::filesystem::path& path, std::string_view flag);

}  // namespace probe::report
