#pragma once
// The worker process: the only place plugin code runs. probe re-executes itself (/proc/self/exe) as
//   probe --probe-worker scan    PARENT_PID DIR…   load every plugin in the folders, report the records
//   probe --probe-worker backend PARENT_PID FILE   load one plugin, enumerate it, measure what it is told
// and talks to the parent over fd 3 in JSON lines, one object per line with a "type":
//   worker → parent  plugin {record}               scan: one per candidate file, then done
//                    backend {status}              backend: the enumeration, then one device per device,
//                    device {info, kernels}        then ready
//                    ready
//                    begin {device, kernel}        before each kernel (the watchdog's clock starts)
//                    progress {text}               what the kernel is doing, for the progress line
//                    measurement {device, measurement}   a result (the report's own measurement JSON)
//                    done
//   parent → worker  {"budget": "quick", "sustain_s": 0, "measure": [{"device": "cuda0", "kernels": ["fma.fp32", …]}, …]}
//                    or {"attest": ["cuda0", …], "nonce": HEX}   (probe --sign, after measuring)
//                    (or the channel closes: nothing to measure, exit)
//   worker → parent  attestation {device, attestation}   one per device asked, then done
// A crash, a hang or a wrong message is the parent's to handle (report/remote_backend.cpp): the worker only
// measures and reports.
#include <string_view>

namespace probe::cli {

inline constexpr std::string_view kWorkerFlag = "--probe-worker";

// argv as given to main, argv[1] == kWorkerFlag. Returns the exit status.
int run_worker(int argc, char** argv);

}  // namespace probe::cli
