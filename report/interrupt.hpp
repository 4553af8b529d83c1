#pragma once
// SIGINT/SIGTERM during a run. The first signal asks the measurement to stop: completed measurements are kept,
// the report says `interrupted` and lists what was not reached, and probe exits 128 + the signal (130, 143).
// A second signal exits at once (_exit), except while a file is being written: then it waits for the write to
// finish (ExitDeferred), so no half-written report or temporary file is left behind.
#include <csignal>
#include <string>

namespace probe::cli {

// Installs the handlers for its lifetime and clears any earlier stop.
class InterruptHandling {
 public:
  InterruptHandling();
  ~InterruptHandling();
  InterruptHandling(const InterruptHandling&) = delete;
  InterruptHandling& operator=(const InterruptHandling&) = delete;

 private:
  struct sigaction m_old_int {}, m_old_term {};
};

// The first signal received (SIGINT, SIGTERM), or 0.
[[nodiscard]] int stop_signal() noexcept;
[[nodiscard]] inline bool stop_requested() noexcept { return stop_signal() != 0; }

// While one is alive, a second signal does not exit: it exits (128 + the first signal) when the guard ends.
class ExitDeferred {
 public:
  ExitDeferred() noexcept;
  ~ExitDeferred();
  ExitDeferred(const ExitDeferred&) = delete;
  ExitDeferred& operator=(const ExitDeferred&) = delete;
};

// "SIGINT", "SIGSEGV", …, or "signal 42".
[[nodiscard]] std::string signal_name(int sig);

}  // namespace probe::cli
