#include "worker_pool.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <latch>
#include <fmt/format.h>

#include "probe/error.hpp"

namespace probe::cpu {

WorkerPool::WorkerPool(const Topology& topology, std::vector<int> pus, const ThreadStarter& start_thread)
    : m_pus(std::move(pus)), m_bind_slots(m_pus.size()), m_ready(static_cast<std::ptrdiff_t>(m_pus.size())) {
  // Reserved first: a push_back that threw after its thread had started would leave a joinable std::thread
  // to be destroyed, which is std::terminate.
  m_threads.reserve(m_pus.size());
  for (std::size_t i = 0; i < m_pus.size(); ++i) {
    std::function<void()> body = [this, i, &topology] {
      try {
        topology.bind_current_thread(m_pus[i]);
      } catch (const std::exception& e) {
        m_bind_slots[i] = e.what();
      }
      // The latch is a member: a worker may still be inside count_down() after the constructor has returned.
      m_ready.count_down();
      loop(static_cast<int>(i));
    };
    try {
      m_threads.push_back(start_thread ? start_thread(std::move(body)) : std::thread(std::move(body)));
    } catch (const std::exception& e) {
      // A pids cgroup or RLIMIT_NPROC: the destructor will not run, so the started workers are stopped here.
      stop_and_join();
      throw SystemError(fmt::format("cannot start worker thread {} of {}: {}", i + 1, m_pus.size(), e.what()));
    }
  }
  m_ready.wait();
  for (const auto& e : m_bind_slots) {
    if (!e.empty()) m_bind_errors.push_back(e);
  }
}

WorkerPool::~WorkerPool() { stop_and_join(); }

void WorkerPool::stop_and_join() noexcept {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  for (auto& t : m_threads) {
    if (t.joinable()) t.join();
  }
}

void WorkerPool::loop(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(int)>* job = nullptr;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
      if (m_stop) return;
      seen = m_generation;
      job = m_job;
    }
    std::exception_ptr error;
    try {
      (*job)(index);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(m_mutex);
      if (error && !m_error) m_error = error;
      if (--m_remaining == 0) m_done.notify_one();
    }
  }
}

void WorkerPool::run(const std::function<void(int)>& job) {
  std::unique_lock lock(m_mutex);
  m_job = &job;
  m_remaining = size();
  m_error = nullptr;
  ++m_generation;
  m_wake.notify_all();
  m_done.wait(lock, [&] { return m_remaining == 0; });
  m_job = nullptr;
  if (m_error) std::rethrow_exception(std::exchange(m_error, nullptr));
}

double WorkerPool::run_timed(const std::function<void(int)>& body) {
  return run_timed(body, [](int) {});
}

double WorkerPool::run_timed(const std::function<void(int)>& body, const std::function<void(int)>& after) {
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> start(m_threads.size()), end(m_threads.size());
  std::barrier sync(static_cast<std::ptrdiff_t>(m_threads.size()));
  run([&](int i) {
    sync.arrive_and_wait();
    start[static_cast<std::size_t>(i)] = Clock::now();
    body(i);
    end[static_cast<std::size_t>(i)] = Clock::now();
    after(i);
  });
  const auto first = *std::min_element(start.begin(), start.end());
  const auto last = *std::max_element(end.begin(), end.end());
  return std::chrono::duration<double>(last - first).count();
}

}  // namespace probe::cpu
