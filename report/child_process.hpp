#pragma once
// A child process in a process group of its own, talking over one socket (fd 3 in the child) in lines. The parent
// waits for a line with a deadline, and kills the whole group (SIGKILL) when the child is silent too long, when the
// run stops, or when the object goes: nothing the child started outlives it.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace probe::cli {

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts `exe` with `args` (argv[1…]); its stdin is /dev/null and its stdout goes to our stderr (what a plugin
  // prints cannot corrupt the channel). Throws SystemError when it cannot be started.
  ChildProcess(const std::string& exe, const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  enum class Read { line, closed, timed_out, stopped };
  // The next line (without '\n') in `line`, waiting until `deadline`; `stop()` is checked at least every 100 ms.
  Read read_line(std::string& line, Clock::time_point deadline, const std::function<bool()>& stop);
  // False when the child is gone.
  bool write_line(std::string_view line);

  // Kills the group (SIGKILL) and reaps the child: how it ended, in words ("crashed: SIGSEGV", "exited with status
  // 3"). After a closed channel the child is given a moment to exit by itself first, so its own ending is told.
  std::string end();

 private:
  pid_t m_pid = -1;
  int m_fd = -1;
  std::string m_buffer;
  std::string m_ending;  // set once reaped
};

}  // namespace probe::cli
