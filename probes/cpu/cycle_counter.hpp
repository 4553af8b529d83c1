#pragma once
// The core clock during a kernel, from the CPU's own cycle counter: perf_event_open(2) counting this thread's
// user-mode cycles, read before and after the timed loop. Unavailable in most VMs (no virtual PMU) and where
// perf_event_paranoid forbids it; the caller then falls back to an add chain right after the loop.
#include <cstdint>
#include <optional>
#include <string>

namespace probe::cpu {

class CycleCounter {
 public:
  // Opens a counter for the calling thread; on failure valid() is false and why_not() says why.
  static CycleCounter for_this_thread();
  CycleCounter() = default;
  ~CycleCounter();
  CycleCounter(CycleCounter&& other) noexcept;
  CycleCounter& operator=(CycleCounter&& other) noexcept;
  CycleCounter(const CycleCounter&) = delete;
  CycleCounter& operator=(const CycleCounter&) = delete;

  [[nodiscard]] bool valid() const noexcept { return m_fd >= 0; }
  [[nodiscard]] const std::string& why_not() const noexcept { return m_why_not; }
  // Marks the start of a timed region (on the thread that opened the counter).
  void start() noexcept;
  // Cycles per second of running time since start(); nullopt when the counter did not run (multiplexed out) or
  // gave an implausible rate.
  [[nodiscard]] std::optional<double> stop_hz() noexcept;

 private:
  struct Reading {
    std::uint64_t cycles = 0, enabled_ns = 0, running_ns = 0;
  };
  [[nodiscard]] bool read(Reading& r) const noexcept;

  int m_fd = -1;
  std::string m_why_not;
  Reading m_start;
};

}  // namespace probe::cpu
