// probe describe-cpu: this machine's CPU as a recorded description (JSON).
#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <span>

#include "cli.hpp"
#include "json_io.hpp"
#include "options.hpp"
#include "printer.hpp"
#include "probe/engine.hpp"
#include "probe/error.hpp"
#include "probe/version.hpp"
#include "cpu_description.hpp"
#include "probe/inventory.hpp"
namespace probe::cli {

// probe describe-cpu: the live CPU as a recorded description (what --cpu-description reads back).
int run_describe_cpu(const Options& o) {
  if (!o.out_files.empty() || o.format != "text") {
    throw InputError("describe-cpu: --out and --format do not apply (it prints JSON; --json FILE writes it to FILE)");
  }
  const Topology topology{Topology::Options{}};
  const cpu::CpuDescription d = cpu::describe_this_cpu(
      topology.inventory(), fmt::format("recorded by probe {} describe-cpu on this machine, {}", kVersion,
                                        utc_now_iso8601()));
  const std::string text = cpu::to_json_text(d);
  if (!o.json_file.empty()) {
    report::write_file_atomically(o.json_file, text);
  } else {
    std::cout << text;
  }
  std::cout.flush();
  return kExitOk;
}

}  // namespace probe::cli
