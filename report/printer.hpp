#pragma once
// One interface, one implementation per output format; chosen by --format or by the output file's extension.
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "assessment.hpp"
#include "regions.hpp"
#include "report.hpp"

namespace probe::report {

// A small neutral document model for what is not a report (replay's changes, compare's table): each printer
// renders it in its own format, so the commands write no markup themselves.
struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row_class;  // per row, optional: "regression", "changed", "ok" (HTML colours it)
};
struct Section {
  std::string title;
  std::vector<std::string> paragraphs;  // shown before the tables
  std::vector<Table> tables;
  std::vector<DeviceChart> charts;  // after the tables: HTML draws each; Markdown lists each point and its region
};

// What a printer shows beside the report itself: the header an auditor checks first, and sections before the
// report (replay's verdict changes).
struct PrintContext {
  std::string title = "probe report";
  std::string binary_sha256;  // of the probe binary that rendered this output; empty: not computed
  // replay: of the probe binary that measured, as the report's signed statement names it; empty: no statement
  std::string run_binary_sha256;
  std::string signature = "not checked";  // the signature state, in words
  std::vector<Section> preamble;
  std::string embedded_json;  // HTML: embedded as application/json (default: the report's own JSON)
};

class Printer {
 public:
  virtual ~Printer() = default;
  // `assessment`, when given, adds the control-parameter section (metrics and verdicts) of each device and
  // the node's verdicts. A device of the assessment with no device in the report (classify --chip) is shown
  // from the chip database alone.
  [[nodiscard]] virtual std::string render(const Report& report, const Assessment* assessment = nullptr) const = 0;
  // A document of sections alone (probe compare). The JSON printer has no such view: the command writes its own.
  [[nodiscard]] virtual std::string render_sections(std::span<const Section> sections) const = 0;
};

enum class Format { text, json, html, markdown };
// "text", "json", "html", "md" (or "markdown").
[[nodiscard]] std::optional<Format> format_from_string(std::string_view s) noexcept;
// By the extension: .txt, .json, .html/.htm, .md; nullopt for anything else.
[[nodiscard]] std::optional<Format> format_from_path(const std::filesystem::path& path) noexcept;
[[nodiscard]] std::string_view to_string(Format f) noexcept;
[[nodiscard]] std::unique_ptr<Printer> make_printer(Format f, PrintContext context = {});

// "114.7 GFLOP/s", "40.12 GB/s", "931 GOP/s"
[[nodiscard]] std::string format_rate(double value, Unit unit, DType dtype);
[[nodiscard]] std::string format_bytes(std::uint64_t bytes);

// The measurements' warnings (Conditions::warnings) of one kind of kernel, each once, in order: the same
// warning on every memory kernel is printed once.
[[nodiscard]] std::vector<std::string> condition_warnings(const DeviceReport& device, KernelClass kind);

// The inventory section alone (probe --list).
[[nodiscard]] std::string render_inventory(const Report& report);

// Per-format printers (html_printer.cpp, markdown_printer.cpp); make_printer is the way in.
[[nodiscard]] std::unique_ptr<Printer> make_html_printer(PrintContext context);
[[nodiscard]] std::unique_ptr<Printer> make_markdown_printer(PrintContext context);
[[nodiscard]] std::string render_sections_text(std::span<const Section> sections);

// Escaping, shared by the printers and tested on its own.
[[nodiscard]] std::string html_escape(std::string_view s);
[[nodiscard]] std::string markdown_escape(std::string_view s);

}  // namespace probe::report
