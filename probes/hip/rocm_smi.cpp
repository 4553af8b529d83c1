#include "rocm_smi.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <numeric>
#include <string>
#include <vector>

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
// RSMI_POWER_TYPE {RSMI_AVERAGE_POWER = 0, RSMI_CURRENT_POWER, RSMI_INVALID_POWER = 0xFFFFFFFF}: a plain enum whose
// largest value is 0xFFFFFFFF, i.e. 4 bytes (unsigned int) in C and C++.
using RsmiPowerType = std::uint32_t;
constexpr RsmiPowerType kInvalidPower = 0xFFFFFFFF;

namespace {
// rsmi_frequencies_t, both layouts (the library fills it from pp_dpm_*clk, lowest level first):
//  - ROCm 5.x rocm_smi.h (e.g. Debian's 5.2.3, /usr/include/rocm_smi/rocm_smi.h): RSMI_MAX_NUM_FREQUENCIES 32,
//    {u32 num_supported; u32 current; u64 frequency[32]} = 264 bytes;
//  - rocm_smi_lib 6.x/7.x (ROCm 6.x; current ROCm/rocm_smi_lib include/rocm_smi/rocm_smi.h):
//    RSMI_MAX_NUM_FREQUENCIES 33 ("32 normal + 1 sleep frequency"), {bool has_deep_sleep; u32 num_supported;
//    u32 current; u64 frequency[33]} = 280 bytes; the deep-sleep "S:" level, when present, is frequency[0] and is
//    counted in num_supported.
struct FreqLayoutOld {
  std::uint32_t num_supported, current;
  std::uint64_t frequency[32];
};
struct FreqLayoutNew {
  bool has_deep_sleep;
  std::uint32_t num_supported, current;
  std::uint64_t frequency[33];
};
static_assert(sizeof(FreqLayoutOld) == 264 && offsetof(FreqLayoutOld, frequency) == 8);
static_assert(sizeof(FreqLayoutNew) == 280 && offsetof(FreqLayoutNew, num_supported) == 4 &&
              offsetof(FreqLayoutNew, frequency) == 16);
static_assert(rsmi::kFreqBufBytes >= sizeof(FreqLayoutNew) && rsmi::kFreqBufBytes % 8 == 0);
}  // namespace

// The raw buffer the library writes into; decoded by rsmi::decode_clock_hz.
struct FreqBuf {
  alignas(8) unsigned char raw[rsmi::kFreqBufBytes];
};

struct RsmiApi {
  rsmi_status_t (*init)(std::uint64_t);
  rsmi_status_t (*shut_down)();
  rsmi_status_t (*num_devices)(std::uint32_t*);
  rsmi_status_t (*pci_id)(std::uint32_t, std::uint64_t*);
  rsmi_status_t (*serial)(std::uint32_t, char*, std::uint32_t);
  rsmi_status_t (*vbios)(std::uint32_t, char*, std::uint32_t);
  rsmi_status_t (*power_cap)(std::uint32_t, std::uint32_t, std::uint64_t*);
  // Optional: rsmi_dev_power_get (current socket power, else average; not in ROCm 5.2's header) is preferred, and
  // rsmi_dev_power_ave_get is deprecated ("Newer ASICs will support current power only").
  rsmi_status_t (*power)(std::uint32_t, std::uint64_t*, RsmiPowerType*);
  rsmi_status_t (*power_ave)(std::uint32_t, std::uint32_t, std::uint64_t*);
  rsmi_status_t (*temp)(std::uint32_t, std::uint32_t, int, std::int64_t*);
  rsmi_status_t (*clk)(std::uint32_t, int, FreqBuf*);
  rsmi_status_t (*version)(RsmiVersion*);
};

namespace rsmi {
std::optional<std::uint64_t> decode_clock_hz(std::span<const unsigned char> raw, int lib_major, bool want_max) {
  // rsmi_version_get reports the *library's* version, not ROCm's: Debian's 5.2.3 package reports 1.0.0 (checked
  // here), upstream ROCm 5 libraries 5.x, ROCm 6.2.1's "ROCm SMI 7.3.0". The new layout is taken for every
  // major >= 6, so 7.x is covered; which 6.x release changed the struct is not pinned down here, and the buffer
  // is large enough that a wrong guess misreads levels (bounded by the checks below) but cannot overflow.
  const bool new_layout = lib_major >= 6;
  const std::size_t count_off = new_layout ? offsetof(FreqLayoutNew, num_supported) : 0;
  const std::size_t freq_off = new_layout ? offsetof(FreqLayoutNew, frequency) : offsetof(FreqLayoutOld, frequency);
  const std::uint32_t max_levels = new_layout ? 33 : 32;
  if (raw.size() < freq_off + 8 * std::size_t{max_levels}) return std::nullopt;
  std::uint32_t num = 0, cur = 0;
  std::memcpy(&num, raw.data() + count_off, 4);
  std::memcpy(&cur, raw.data() + count_off + 4, 4);
  if (num == 0 || num > max_levels || cur >= num) return std::nullopt;
  std::uint64_t hz = 0;
  std::memcpy(&hz, raw.data() + freq_off + 8 * std::size_t{want_max ? num - 1 : cur}, 8);
  return hz;
}

std::optional<PciAddress> parse_bus_id(const std::string& bus_id) {
  unsigned dom = 0, bus = 0, dev = 0, fn = 0;
  if (std::sscanf(bus_id.c_str(), "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4 || bus > 0xff || dev > 0x1f) {
    return std::nullopt;
  }
  return PciAddress{dom, bus, dev};
}

bool same_pci_device(std::uint64_t bdfid, const PciAddress& at) {
  // rsmi_dev_pci_id_get: bits 63:32 domain, 31:28 partition id (ROCm >= 6.1.1), 27:16 reserved, 15:8 bus,
  // 7:3 device, 2:0 function, where older KFDs put the partition id in non-SPX modes. Only domain, bus and device
  // name the chip.
  return (bdfid >> 32) == at.domain && ((bdfid >> 8) & 0xff) == at.bus && ((bdfid >> 3) & 0x1f) == at.device;
}

std::optional<std::uint32_t> pick_smi_device(std::span<const std::optional<std::uint64_t>> bdfids,
                                             const PciAddress& at) {
  // In non-SPX modes (MI300 CPX/DPX/...) every partition is an SMI device at the same bus/device, and HIP gives
  // every partition the same bus id, so the bus id cannot tell partitions apart. Power, temperature and the DPM
  // table are the chip's (amd-smi shows the same socket power for each partition), so one SMI device serves all:
  // partition 0 (no partition bits set) when listed, else the first match.
  std::optional<std::uint32_t> first;
  for (std::size_t i = 0; i < bdfids.size(); ++i) {
    if (!bdfids[i] || !same_pci_device(*bdfids[i], at)) continue;
    const auto idx = static_cast<std::uint32_t>(i);
    if ((*bdfids[i] & 0xf0000007ull) == 0) return idx;
    if (!first) first = idx;
  }
  return first;
}
}  // namespace rsmi

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
  // SONAMEs differ by packager: AMD's ROCm 6.x/7.x ship .so.7 (earlier .so.6/.so.5), Debian and Fedora rebuild as
  // .so.1/.so.5; AMD installs under /opt/rocm/lib, which is often not on the loader's path.
  std::vector<std::string> names = {"librocm_smi64.so.7", "librocm_smi64.so.6", "librocm_smi64.so.5",
                                    "librocm_smi64.so.1", "librocm_smi64.so"};
  for (const char* env : {"ROCM_PATH", "ROCM_HOME"}) {
    if (const char* root = std::getenv(env); root && *root) names.push_back(std::string(root) + "/lib/librocm_smi64.so");
  }
  names.emplace_back("/opt/rocm/lib/librocm_smi64.so");
  for (const auto& n : names) {
    m_lib = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (m_lib) break;
  }
  if (!m_lib) {
    m_why = fmt::format("ROCm SMI not found (tried {})", fmt::join(names, ", "));
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
  sym(api->temp, "rsmi_dev_temp_metric_get");
  sym(api->clk, "rsmi_dev_gpu_clk_freq_get");
  sym(api->version, "rsmi_version_get");
  if (!ok) {
    m_why = "ROCm SMI lacks an expected entry point";
    return;
  }
  // Power entry points are optional: power_get is missing from older libraries, power_ave may be dropped one day.
  api->power = reinterpret_cast<decltype(api->power)>(dlsym(m_lib, "rsmi_dev_power_get"));
  api->power_ave = reinterpret_cast<decltype(api->power_ave)>(dlsym(m_lib, "rsmi_dev_power_ave_get"));
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
  const auto at = rsmi::parse_bus_id(bus_id);
  std::uint32_t n = 0;
  if (!at || m_api->num_devices(&n) != 0) return std::nullopt;
  std::vector<std::optional<std::uint64_t>> ids(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint64_t id = 0;
    if (m_api->pci_id(i, &id) == 0) ids[i] = id;
  }
  return rsmi::pick_smi_device(ids, *at);
}

std::optional<double> RocmSmi::clock_now(std::uint32_t dev, int type, bool want_max) const {
  FreqBuf f{};
  if (m_api->clk(dev, type, &f) != 0) return std::nullopt;
  const auto hz = rsmi::decode_clock_hz(f.raw, m_major, want_max);
  if (!hz) return std::nullopt;
  return static_cast<double>(*hz);
}

std::optional<double> RocmSmi::power_now_w(std::uint32_t dev) const {
  std::uint64_t uw = 0;  // microwatts from both calls
  RsmiPowerType type = kInvalidPower;
  if (m_api->power && m_api->power(dev, &uw, &type) == 0 && type != kInvalidPower) return static_cast<double>(uw) / 1e6;
  if (m_api->power_ave && m_api->power_ave(dev, 0, &uw) == 0) return static_cast<double>(uw) / 1e6;
  return std::nullopt;
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
  if (auto c = m_smi.clock_now(m_dev, kClkMem)) m_mem_clock.push_back(*c);
  if (auto w = m_smi.power_now_w(m_dev)) m_power.push_back(*w);
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
  s.sclk_hz = m_clock;
  s.mclk_hz = m_mem_clock;
  s.power_w = m_power;
  s.temperature_c = m_temp;
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  return s;
}

}  // namespace probe::hip
