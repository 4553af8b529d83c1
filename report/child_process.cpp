#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <thread>

#include "interrupt.hpp"
#include "probe/error.hpp"

extern char** environ;

namespace probe::cli {
namespace {

// Above the descriptors the child is given (0-4), so that dup2 onto fd 3 always clears close-on-exec.
constexpr int kFirstPrivateFd = 10;
constexpr int kChildChannelFd = 3;

[[noreturn]] void fail(std::string_view what) {
  throw SystemError(fmt::format("cannot start a worker process: {}: {}", what, std::strerror(errno)));
}

int high_fd(int fd) {
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, kFirstPrivateFd);
  const int err = errno;
  ::close(fd);
  errno = err;
  return moved;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return fmt::format("crashed: {}", signal_name(WTERMSIG(status)));
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return fmt::format("ended (wait status {})", status);
}

}  // namespace

ChildProcess::ChildProcess(const std::string& exe, const std::vector<std::string>& args) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) fail("socketpair");
  const int ours = high_fd(sv[0]);
  const int theirs = high_fd(sv[1]);
  if (ours < 0 || theirs < 0) fail("fcntl");

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  posix_spawn_file_actions_adddup2(&actions, theirs, kChildChannelFd);
  // Its own process group: a terminal's Ctrl-C reaches the parent only, and killpg reaches everything it started.
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int rc = ::posix_spawn(&m_pid, exe.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(theirs);
  if (rc != 0) {
    ::close(ours);
    errno = rc;
    fail(exe);
  }
  m_fd = ours;
}

ChildProcess::~ChildProcess() {
  if (m_pid > 0 && m_ending.empty()) {
    // Idle and told nothing more: a closed channel lets it exit by itself; a kill follows if it does not.
    if (m_fd >= 0) ::shutdown(m_fd, SHUT_RDWR);
    const auto until = Clock::now() + std::chrono::seconds(1);
    int status = 0;
    while (::waitpid(m_pid, &status, WNOHANG) == 0 && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::killpg(m_pid, SIGKILL);
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (m_fd >= 0) ::close(m_fd);
}

ChildProcess::Read ChildProcess::read_line(std::string& line, Clock::time_point deadline,
                                           const std::function<bool()>& stop) {
  for (;;) {
    if (const auto nl = m_buffer.find('\n'); nl != std::string::npos) {
      line = m_buffer.substr(0, nl);
      m_buffer.erase(0, nl + 1);
      return Read::line;
    }
    if (m_fd < 0) return Read::closed;
    if (stop()) return Read::stopped;
    const auto now = Clock::now();
    if (now >= deadline) return Read::timed_out;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd p{m_fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::clamp<long long>(left, 1, 100)));
    if (n < 0 && errno != EINTR) return Read::closed;
    if (n <= 0) continue;
    char buf[65536];
    const ssize_t got = ::recv(m_fd, buf, sizeof buf, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) {
      ::close(m_fd);
      m_fd = -1;
      continue;  // a last complete line may still be buffered
    }
    m_buffer.append(buf, static_cast<std::size_t>(got));
  }
}

bool ChildProcess::write_line(std::string_view line) {
  if (m_fd < 0) return false;
  std::string data(line);
  data += '\n';
  std::size_t done = 0;
  while (done < data.size()) {
    // MSG_NOSIGNAL: a dead child is an error return here, not a SIGPIPE that kills the parent.
    const ssize_t n = ::send(m_fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string ChildProcess::end() {
  if (!m_ending.empty()) return m_ending;
  int status = 0;
  pid_t got = 0;
  if (m_fd < 0) {
    // The channel closed: the child is probably ending by itself (a crash); give it a moment to be reaped.
    const auto until = Clock::now() + std::chrono::seconds(2);
    while ((got = ::waitpid(m_pid, &status, WNOHANG)) == 0 && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ::killpg(m_pid, SIGKILL);  // whatever it started goes too
  if (got != m_pid) {
    while ((got = ::waitpid(m_pid, &status, 0)) < 0 && errno == EINTR) {
    }
  }
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
  m_ending = got == m_pid ? describe(status) : "ended (not reaped)";
  return m_ending;
}

}  // namespace probe::cli
