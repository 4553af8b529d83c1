#include "rocm_smi.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <numeric>

namespace probe::hip {

// The subset of rocm_smi.h used here (ROCm SMI 5.x/6.x C ABI).
using rsmi_status_t = int;
struct RsmiVersion {
  std::uint32_t major, minor, patch;
  const char* build;
};
constexpr int kClkSys = 0;  // RSMI_CLK_TYPE_SYS
constexpr int kClkMem = 4;  // RSMI_CLK_TYPE_MEM
constexpr int kTempEdge = 0, kTempJunction = 1;
constexpr int kTempCurrent = 0;
constexpr int kMaxFreq = 32;  // RSMI_MAX_NUM_FREQUENCIES
// rsmi_frequencies_t: ROCm SMI 5.x {u32 num_supported; u32 current; u64 frequency[32]}; 6.x puts a bool
// has_deep_sleep first (so the same fields move by 4 bytes). Read into a raw buffer, decoded by the major version.
struct FreqBuf {
  alignas(8) unsigned char raw[16 + 8 * kMaxFreq];
};

struct RsmiApi {
  rsmi_status_t (*init)(std::uint64_t);
  rsmi_status_t (*shut_down)();
  rsmi_status_t (*num_devices)(std::uint32_t*);
  rsmi_status_t (*pci_id)(std::uint32_t, std::uint64_t*);
  rsmi_status_t (*serial)(std::uint32_t, char*, std::uint32_t);
  rsmi_status_t (*vbios)(std::uint32_t, char*, std::uint32_t);
  rsmi_status_t (*power_cap)(std::uint32_t, std::uint32_t, std::uint64_t*);
  rsmi_status_t (*power_ave)(std::uint32_t, std::uint32_t, std::uint64_t*);
  rsmi_status_t (*temp)(std::uint32_t, std::uint32_t, int, std::int64_t*);
  rsmi_status_t (*clk)(std::uint32_t, int, FreqBuf*);
  rsmi_status_t (*version)(RsmiVersion*);
};

namespace {
// Runs f with stderr (fd 2) redirected into a temporary file; returns what was written there.
template <class F>
std::string capture_stderr(F f) {
  std::fflush(stderr);
  FILE* tmp = std::tmpfile();
  const int saved = dup(2);
  if (tmp && saved >= 0) dup2(fileno(tmp), 2);
  f();
  std::string text;
  if (tmp && saved >= 0) {
    std::fflush(stderr);
    dup2(saved, 2);
    std::rewind(tmp);
    char buf[512];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) text.append(buf, n);
  }
  if (saved >= 0) close(saved);
  if (tmp) std::fclose(tmp);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}
}  // namespace

RocmSmi::RocmSmi() {
  m_lib = dlopen("librocm_smi64.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!m_lib) m_lib = dlopen("librocm_smi64.so", RTLD_NOW | RTLD_LOCAL);
  if (!m_lib) {
    m_why = "ROCm SMI not found (librocm_smi64.so.1)";
    return;
  }
  auto api = std::make_unique<RsmiApi>();
  bool ok = true;
  auto sym = [&](auto& fp, const char* name) {
    fp = reinterpret_cast<std::remove_reference_t<decltype(fp)>>(dlsym(m_lib, name));
    if (!fp) ok = false;
  };
  sym(api->init, "rsmi_init");
  sym(api->shut_down, "rsmi_shut_down");
  sym(api->num_devices, "rsmi_num_monitor_devices");
  sym(api->pci_id, "rsmi_dev_pci_id_get");
  sym(api->serial, "rsmi_dev_serial_number_get");
  sym(api->vbios, "rsmi_dev_vbios_version_get");
  sym(api->power_cap, "rsmi_dev_power_cap_get");
  sym(api->power_ave, "rsmi_dev_power_ave_get");
  sym(api->temp, "rsmi_dev_temp_metric_get");
  sym(api->clk, "rsmi_dev_gpu_clk_freq_get");
  sym(api->version, "rsmi_version_get");
  if (!ok) {
    m_why = "ROCm SMI lacks an expected entry point";
    return;
  }
  rsmi_status_t st = 0;
  const std::string noise = capture_stderr([&] { st = api->init(0); });
  if (st != 0) {
    m_why = fmt::format("rsmi_init failed ({}){}", st, noise.empty() ? "" : ": " + noise);
    return;
  }
  RsmiVersion v{};
  if (api->version(&v) == 0) {
    m_major = static_cast<int>(v.major);
    m_version = fmt::format("{}.{}.{}", v.major, v.minor, v.patch);
  }
  m_api = std::move(api);
}

RocmSmi::~RocmSmi() {
  if (m_api) m_api->shut_down();
  // The library is not dlclosed: ROCm SMI keeps threads and atexit handlers.
}

std::optional<std::uint32_t> RocmSmi::index(const std::string& bus_id) const {
  if (!m_api) return std::nullopt;
  unsigned dom = 0, bus = 0, dev = 0, fn = 0;
  if (std::sscanf(bus_id.c_str(), "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) return std::nullopt;
  // BDFID: domain << 32 | bus << 8 | device << 3 | function.
  const std::uint64_t want = (std::uint64_t{dom} << 32) | (bus << 8) | (dev << 3) | fn;
  std::uint32_t n = 0;
  if (m_api->num_devices(&n) != 0) return std::nullopt;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint64_t id = 0;
    if (m_api->pci_id(i, &id) == 0 && (id & 0xffffffffffffull) == want) return i;
  }
  return std::nullopt;
}

std::optional<double> RocmSmi::clock_now(std::uint32_t dev, int type, bool want_max) const {
  FreqBuf f{};
  if (m_api->clk(dev, type, &f) != 0) return std::nullopt;
  const std::size_t off = m_major >= 6 ? 4 : 0;  // has_deep_sleep (bool, padded) first since 6.x
  std::uint32_t num = 0, cur = 0;
  std::memcpy(&num, f.raw + off, 4);
  std::memcpy(&cur, f.raw + off + 4, 4);
  const std::size_t freq_off = m_major >= 6 ? 16 : 8;
  if (num == 0 || num > kMaxFreq || cur >= num) return std::nullopt;
  std::uint64_t hz = 0;
  std::memcpy(&hz, f.raw + freq_off + 8 * (want_max ? num - 1 : cur), 8);
  return static_cast<double>(hz);
}

SmiStatic RocmSmi::read_static(std::uint32_t dev) const {
  SmiStatic s;
  if (!m_api) return s;
  char buf[256] = {};
  if (m_api->serial(dev, buf, sizeof buf) == 0) s.serial = buf;
  std::memset(buf, 0, sizeof buf);
  if (m_api->vbios(dev, buf, sizeof buf) == 0) s.vbios = buf;
  std::uint64_t uw = 0;
  if (m_api->power_cap(dev, 0, &uw) == 0 && uw > 0) s.power_cap_w = static_cast<double>(uw) / 1e6;
  s.sclk_hz = clock_now(dev, kClkSys);
  s.mclk_hz = clock_now(dev, kClkMem);
  s.sclk_max_hz = clock_now(dev, kClkSys, true);
  s.mclk_max_hz = clock_now(dev, kClkMem, true);
  return s;
}

RocmSmi::Sampler::Sampler(const RocmSmi& smi, std::uint32_t dev, int period_ms)
    : m_smi(smi), m_dev(dev), m_period_ms(period_ms) {
  m_thread = std::thread([this] {
    while (!m_stop.load()) {
      sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(m_period_ms));
    }
  });
}
RocmSmi::Sampler::~Sampler() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}
void RocmSmi::Sampler::sample() {
  if (auto c = m_smi.clock_now(m_dev, kClkSys)) m_clock.push_back(*c);
  std::uint64_t uw = 0;
  if (m_smi.m_api->power_ave(m_dev, 0, &uw) == 0) m_power.push_back(static_cast<double>(uw) / 1e6);
  std::int64_t mc = 0;
  if (m_smi.m_api->temp(m_dev, kTempJunction, kTempCurrent, &mc) == 0 ||
      m_smi.m_api->temp(m_dev, kTempEdge, kTempCurrent, &mc) == 0) {
    m_temp.push_back(static_cast<double>(mc) / 1e3);
  }
}
SensorSummary RocmSmi::Sampler::stop() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
  SensorSummary s;
  s.samples = static_cast<int>(m_clock.size());
  if (!m_clock.empty()) {
    s.sclk_hz_mean = std::accumulate(m_clock.begin(), m_clock.end(), 0.0) / static_cast<double>(m_clock.size());
    s.sclk_hz_min = *std::min_element(m_clock.begin(), m_clock.end());
    s.sclk_hz_max = *std::max_element(m_clock.begin(), m_clock.end());
  }
  if (!m_power.empty()) {
    s.power_w_mean = std::accumulate(m_power.begin(), m_power.end(), 0.0) / static_cast<double>(m_power.size());
    s.power_w_max = *std::max_element(m_power.begin(), m_power.end());
  }
  if (!m_temp.empty()) s.temperature_c_max = *std::max_element(m_temp.begin(), m_temp.end());
  return s;
}

}  // namespace probe::hip
