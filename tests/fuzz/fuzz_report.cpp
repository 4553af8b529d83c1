// libFuzzer harness: a recorded JSON report (report_from_json_text, the reader for reports replayed and
// re-evaluated) and what is done with one: the text printer and JSON again. What it accepts must write back to
// JSON that it reads again (a report probe wrote and then refuses is a bug: abort). InputError on the fuzzed
// input is the expected rejection; any other exception is a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "json_io.hpp"
#include "printer.hpp"
#include "probe/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  probe::report::Report rep;
  try {
    rep = probe::report::report_from_json_text(text, "fuzz_report.json");
  } catch (const probe::InputError&) {
    return 0;
  }
  (void)probe::report::make_printer(probe::report::Format::text)->render(rep);
  (void)probe::report::make_printer(probe::report::Format::html)->render(rep);
  (void)probe::report::make_printer(probe::report::Format::markdown)->render(rep);
  const std::string again = probe::report::to_json_text(rep);
  try {
    (void)probe::report::report_from_json_text(again, "fuzz_report_written.json");
  } catch (const probe::InputError& e) {
    std::fprintf(stderr, "a report probe wrote was refused: %s\n", e.what());
    std::abort();
  }
  return 0;
}
