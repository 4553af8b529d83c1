#include "interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <string>

namespace probe::cli {
namespace {

// The one global of the program (docs/design.md, "Interrupts"): written by the signal handler, which may run on
// any thread. One lock-free atomic word holds everything, so the handler and the main thread never race:
//   bits 0-7  the first signal (0: none)
//   bit 8     a file is being written: a second signal must wait
//   bit 9     a second signal came while writing: exit when the write ends
constexpr int kSignalMask = 0xff;
constexpr int kWriting = 1 << 8;
constexpr int kExitPending = 1 << 9;
std::atomic<int> g_signal_state{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free atomic");

extern "C" void on_stop_signal(int sig) {
  int s = g_signal_state.load();
  for (;;) {
    int next = 0;
    if ((s & kSignalMask) == 0) {
      next = s | (sig & kSignalMask);
    } else if ((s & kWriting) != 0) {
      next = s | kExitPending;
    } else {
      _exit(128 + (s & kSignalMask));  // the second signal: at once, nothing is being written
    }
    if (g_signal_state.compare_exchange_weak(s, next)) return;
  }
}

}  // namespace

InterruptHandling::InterruptHandling() {
  g_signal_state.store(0);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // measurement code is not written for EINTR; waits that must notice poll the flag
  sigaction(SIGINT, &sa, &m_old_int);
  sigaction(SIGTERM, &sa, &m_old_term);
}

InterruptHandling::~InterruptHandling() {
  sigaction(SIGINT, &m_old_int, nullptr);
  sigaction(SIGTERM, &m_old_term, nullptr);
}

int stop_signal() noexcept { return g_signal_state.load() & kSignalMask; }

ExitDeferred::ExitDeferred() noexcept { g_signal_state.fetch_or(kWriting); }

ExitDeferred::~ExitDeferred() {
  const int s = g_signal_state.fetch_and(~(kWriting | kExitPending));
  if ((s & kExitPending) != 0) _exit(128 + (s & kSignalMask));
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGABRT: return "SIGABRT";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGPIPE: return "SIGPIPE";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGSYS: return "SIGSYS";
    case SIGXCPU: return "SIGXCPU";
    default: return "signal " + std::to_string(sig);
  }
}

}  // namespace probe::cli
