#pragma once
// One pinned thread per core, kept for a whole measurement so that placement and first-touch pages stay put.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probe/inventory.hpp"

namespace probe::cpu {

class WorkerPool {
 public:
  // Starts one thread running `body`. The default is std::thread; tests pass one that fails as a cgroup pids
  // limit makes std::thread fail (std::system_error, EAGAIN).
  using ThreadStarter = std::function<std::thread(std::function<void()> body)>;

  // One worker per PU (OS index). Binding failures are recorded, not fatal: the figures are then unpinned.
  // A worker that cannot be started is: the workers already started are stopped and joined, and SystemError
  // says which thread failed and why (the measurement then fails with that reason; never std::terminate).
  WorkerPool(const Topology& topology, std::vector<int> pus, const ThreadStarter& start_thread = {});
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  [[nodiscard]] int size() const noexcept { return static_cast<int>(m_threads.size()); }
  [[nodiscard]] const std::vector<int>& pus() const noexcept { return m_pus; }
  [[nodiscard]] const std::vector<std::string>& bind_errors() const noexcept { return m_bind_errors; }

  // Runs job(worker index) on every worker and waits; rethrows the first exception a job threw.
  void run(const std::function<void(int)>& job);
  // Runs body(i) on every worker, started together at a barrier; returns the seconds from the first start to
  // the last finish (the union, so threads that straggle count against the figure, not for it).
  double run_timed(const std::function<void(int)>& body);
  // The same, then after(i) on each worker once its body is done, outside the timed region (e.g. a clock probe
  // that must follow the kernel on the same core before its frequency changes).
  double run_timed(const std::function<void(int)>& body, const std::function<void(int)>& after);

 private:
  void loop(int index);
  void stop_and_join() noexcept;

  std::vector<int> m_pus;
  std::vector<std::string> m_bind_slots;  // one per worker, written before the latch
  std::latch m_ready;
  std::vector<std::string> m_bind_errors;
  std::vector<std::thread> m_threads;
  std::mutex m_mutex;
  std::condition_variable m_wake, m_done;
  const std::function<void(int)>* m_job = nullptr;
  std::uint64_t m_generation = 0;
  int m_remaining = 0;
  bool m_stop = false;
  std::exception_ptr m_error;
};

}  // namespace probe::cpu
