#include "cycle_counter.hpp"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <utility>

namespace probe::cpu {

CycleCounter CycleCounter::for_this_thread() {
  CycleCounter c;
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_HARDWARE;
  attr.config = PERF_COUNT_HW_CPU_CYCLES;
  attr.exclude_kernel = 1;  // user mode only: allowed at perf_event_paranoid 2, and the loops run in user mode
  attr.exclude_hv = 1;
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  const long fd = syscall(SYS_perf_event_open, &attr, 0 /* this thread */, -1 /* any CPU */, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    c.m_why_not = err == ENOENT || err == EOPNOTSUPP
                      ? fmt::format("no hardware cycle counter (perf_event_open: {}; a VM without a virtual PMU)",
                                    std::strerror(err))
                      : fmt::format("perf_event_open(cycles): {} (see /proc/sys/kernel/perf_event_paranoid)",
                                    std::strerror(err));
    return c;
  }
  c.m_fd = static_cast<int>(fd);
  Reading r;
  if (!c.read(r)) {
    c.m_why_not = "perf cycle counter opened but cannot be read";
    ::close(c.m_fd);
    c.m_fd = -1;
  }
  return c;
}

CycleCounter::~CycleCounter() {
  if (m_fd >= 0) ::close(m_fd);
}

CycleCounter::CycleCounter(CycleCounter&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_why_not(std::move(other.m_why_not)), m_start(other.m_start) {}

CycleCounter& CycleCounter::operator=(CycleCounter&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
    m_why_not = std::move(other.m_why_not);
    m_start = other.m_start;
  }
  return *this;
}

bool CycleCounter::read(Reading& r) const noexcept {
  std::uint64_t v[3] = {};
  if (m_fd < 0 || ::read(m_fd, v, sizeof v) != static_cast<ssize_t>(sizeof v)) return false;
  r = Reading{v[0], v[1], v[2]};
  return true;
}

void CycleCounter::start() noexcept {
  if (!read(m_start)) m_start = Reading{};
}

std::optional<double> CycleCounter::stop_hz() noexcept {
  Reading end;
  if (!read(end) || end.running_ns <= m_start.running_ns || end.cycles < m_start.cycles) return std::nullopt;
  const double hz = static_cast<double>(end.cycles - m_start.cycles) * 1e9 /
                    static_cast<double>(end.running_ns - m_start.running_ns);
  // Below 100 MHz or above 10 GHz is not a core clock: a counter that is not what it claims.
  if (hz < 1e8 || hz > 1e10) return std::nullopt;
  return hz;
}

}  // namespace probe::cpu
