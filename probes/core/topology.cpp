// The node's inventory from hwloc (packages, cores, caches, NUMA nodes, accelerator-class PCI devices) plus
// what hwloc does not know well (OS release, the kernel's total memory), and thread placement.
#include "probe/inventory.hpp"

#include <hwloc.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <charconv>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "probe/error.hpp"
#include "probe/input_file.hpp"

namespace probe {
namespace {

struct TopologyDeleter {
  void operator()(hwloc_topology* t) const noexcept { hwloc_topology_destroy(t); }
};
using TopologyHandle = std::unique_ptr<hwloc_topology, TopologyDeleter>;

struct BitmapDeleter {
  void operator()(hwloc_bitmap_s* b) const noexcept { hwloc_bitmap_free(b); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

// std::strerror is not thread-safe; the category's message is.
std::string errno_text(int err) { return std::generic_category().message(err); }

std::string info_of(hwloc_obj_t obj, const char* name) {
  const char* value = hwloc_obj_get_info_by_name(obj, name);
  return value != nullptr ? std::string(value) : std::string();
}

// -1 when the info is absent or not a whole number (hwloc copies CPUID fields verbatim).
int int_info(hwloc_obj_t obj, const char* name) {
  const std::string text = info_of(obj, name);
  int value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return -1;
  return value;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

// os-release values may be quoted and may escape $ " ' \ ` with a backslash (os-release(5)).
std::string unquote_os_release(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

std::map<std::string, std::string> read_os_release() {
  std::map<std::string, std::string> fields;
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    std::ifstream in(path);
    if (!in) continue;
    std::string line;
    while (std::getline(in, line)) {
      const std::string l = trim(line);
      if (l.empty() || l.front() == '#') continue;
      const auto eq = l.find('=');
      if (eq == std::string::npos) continue;
      fields[l.substr(0, eq)] = unquote_os_release(std::string_view(l).substr(eq + 1));
    }
    break;  // the first file that exists is authoritative
  }
  return fields;
}

// MemTotal in bytes, 0 when unreadable. hwloc's NUMA figure misses memory a VM hot-plugged outside any node.
std::uint64_t meminfo_total_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    constexpr std::string_view key = "MemTotal:";
    if (line.rfind(key, 0) != 0) continue;
    const std::string rest = trim(std::string_view(line).substr(key.size()));
    std::uint64_t kib = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
    if (ec != std::errc()) return 0;
    const std::string unit = trim(std::string_view(end, static_cast<std::size_t>(rest.data() + rest.size() - end)));
    return unit == "kB" || unit.empty() ? kib * 1024 : 0;
  }
  return 0;
}

std::string this_hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) == 0) return std::string(buf);
  utsname u{};
  if (uname(&u) == 0) return std::string(u.nodename);
  return {};
}

std::string format_api_version(unsigned v) {
  return fmt::format("{}.{}.{}", (v >> 16) & 0xffU, (v >> 8) & 0xffU, v & 0xffU);
}

// The running library's release ("2.9.0"). hwloc_get_api_version() only gives the API level (2.9.0 reports
// 0x20800), while the library stamps its own release into the root of every topology it discovers. An XML
// topology carries its exporter's stamp instead, so there we ask a tiny synthetic topology.
std::string runtime_hwloc_version(hwloc_topology_t loaded, bool from_xml) {
  if (!from_xml) {
    const std::string v = info_of(hwloc_get_root_obj(loaded), "hwlocVersion");
    if (!v.empty()) return v;
  } else {
    hwloc_topology_t raw = nullptr;
    if (hwloc_topology_init(&raw) == 0) {
      TopologyHandle synthetic(raw);
      if (hwloc_topology_set_synthetic(raw, "pu:1") == 0 && hwloc_topology_load(raw) == 0) {
        const std::string v = info_of(hwloc_get_root_obj(raw), "hwlocVersion");
        if (!v.empty()) return v;
      }
    }
  }
  return format_api_version(hwloc_get_api_version());
}

std::string pci_class_name(std::uint16_t class_id) {
  if (class_id == 0x0300) return "VGA";
  if (class_id == 0x0302) return "3D";
  if ((class_id >> 8) == 0x03) return "Display";
  if ((class_id >> 8) == 0x12) return "ProcessingAccelerator";
  if (class_id == 0x0b40) return "CoProcessor";
  return fmt::format("{:04x}", class_id);
}

std::string cache_type_name(hwloc_obj_cache_type_e type) {
  switch (type) {
    case HWLOC_OBJ_CACHE_DATA: return "data";
    case HWLOC_OBJ_CACHE_INSTRUCTION: return "instruction";
    case HWLOC_OBJ_CACHE_UNIFIED: return "unified";
  }
  return "unified";
}

int cache_type_rank(const std::string& type) {
  if (type == "data") return 0;
  if (type == "instruction") return 1;
  return 2;
}

// Data and unified caches, deepest level first: the first one present is the last-level cache.
constexpr hwloc_obj_type_t kDataCachesDeepestFirst[] = {HWLOC_OBJ_L5CACHE, HWLOC_OBJ_L4CACHE, HWLOC_OBJ_L3CACHE,
                                                        HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L1CACHE};
constexpr hwloc_obj_type_t kAllCaches[] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2CACHE,
                                           HWLOC_OBJ_L2ICACHE, HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L3ICACHE,
                                           HWLOC_OBJ_L4CACHE, HWLOC_OBJ_L5CACHE};

int nb_objs(hwloc_topology_t t, hwloc_obj_type_t type) { return std::max(0, hwloc_get_nbobjs_by_type(t, type)); }

CpuPackage describe_package(hwloc_topology_t t, hwloc_obj_t pkg, bool is_root, int llc_type_index) {
  CpuPackage p;
  p.index = is_root ? 0 : static_cast<int>(pkg->logical_index);
  p.vendor = info_of(pkg, "CPUVendor");
  p.model_name = info_of(pkg, "CPUModel");
  p.family = int_info(pkg, "CPUFamilyNumber");
  p.model = int_info(pkg, "CPUModelNumber");
  p.stepping = int_info(pkg, "CPUStepping");

  const hwloc_const_cpuset_t set = pkg->cpuset;
  for (hwloc_obj_t pu = hwloc_get_next_obj_inside_cpuset_by_type(t, set, HWLOC_OBJ_PU, nullptr); pu != nullptr;
       pu = hwloc_get_next_obj_inside_cpuset_by_type(t, set, HWLOC_OBJ_PU, pu)) {
    p.pus.push_back(static_cast<int>(pu->os_index));
  }
  std::sort(p.pus.begin(), p.pus.end());
  p.threads = static_cast<int>(p.pus.size());

  for (hwloc_obj_t core = hwloc_get_next_obj_inside_cpuset_by_type(t, set, HWLOC_OBJ_CORE, nullptr); core != nullptr;
       core = hwloc_get_next_obj_inside_cpuset_by_type(t, set, HWLOC_OBJ_CORE, core)) {
    const hwloc_obj_t first_pu = hwloc_get_next_obj_inside_cpuset_by_type(t, core->cpuset, HWLOC_OBJ_PU, nullptr);
    if (first_pu == nullptr) continue;  // every PU of this core is disallowed: nothing can run there
    p.core_first_pu.push_back(static_cast<int>(first_pu->os_index));
  }
  // A topology without Core objects (some VMs, synthetic or old XML): each PU is all we know of a core.
  if (p.core_first_pu.empty()) p.core_first_pu = p.pus;
  p.cores = static_cast<int>(p.core_first_pu.size());

  if (llc_type_index >= 0) {
    const hwloc_obj_type_t llc = kDataCachesDeepestFirst[llc_type_index];
    for (hwloc_obj_t c = hwloc_get_next_obj_by_type(t, llc, nullptr); c != nullptr;
         c = hwloc_get_next_obj_by_type(t, llc, c)) {
      // Inside the package, or covering it (a cache shared by several packages still serves this one).
      if (hwloc_bitmap_intersects(c->cpuset, set)) p.llc_bytes += c->attr->cache.size;
    }
  }
  return p;
}

std::vector<CacheInfo> describe_caches(hwloc_topology_t t) {
  std::map<std::pair<int, int>, CacheInfo> by_key;  // (level, type rank): one entry per kind of cache
  for (const hwloc_obj_type_t type : kAllCaches) {
    for (hwloc_obj_t c = hwloc_get_next_obj_by_type(t, type, nullptr); c != nullptr;
         c = hwloc_get_next_obj_by_type(t, type, c)) {
      const auto& a = c->attr->cache;
      CacheInfo info;
      info.level = static_cast<int>(a.depth);
      info.type = cache_type_name(a.type);
      auto [it, inserted] = by_key.try_emplace({info.level, cache_type_rank(info.type)}, info);
      CacheInfo& entry = it->second;
      if (inserted) {
        // Size and sharing of one instance: the first one (hybrid CPUs can differ between instances).
        entry.size_bytes = a.size;
        entry.line_bytes = static_cast<int>(a.linesize);
        entry.pus_per_instance = hwloc_bitmap_weight(c->cpuset);
      }
      ++entry.count;
    }
  }
  std::vector<CacheInfo> caches;
  caches.reserve(by_key.size());
  for (auto& [key, info] : by_key) caches.push_back(std::move(info));
  return caches;
}

}  // namespace

bool is_accelerator_class(std::uint16_t class_id) noexcept {
  const unsigned base = class_id >> 8U;
  return base == 0x03 || base == 0x12 || class_id == 0x0b40;
}

struct Topology::Impl {
  TopologyHandle topology;
  std::optional<std::string> xml_path;
  std::string hwloc_version;
};

namespace {

// hwloc 2.9's XML importer dereferences NULL on some malformed files (an object with a nodeset but no
// complete_nodeset: SIGSEGV in hwloc_bitmap_or, found by tests/fuzz/fuzz_topology) and has no switch to make it
// check. So an XML topology is first loaded by a forked copy of this process; only if that copy loads it
// cleanly does this process load it (the importer is deterministic). A copy that fails, crashes or takes longer
// than 10 s makes the file an InputError. Where fork itself fails, the file is loaded here as before.
void load_xml_in_child_first(hwloc_topology_t prepared, const std::string& path) {
  const pid_t child = ::fork();
  if (child < 0) return;
  if (child == 0) {
    // The copy dies of its signal without running the handlers it inherited (a sanitizer's, libFuzzer's, a crash
    // reporter's): they would report this process's crash, and libFuzzer would file the input as one.
    for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
    ::_exit(hwloc_topology_load(prepared) == 0 ? 0 : 1);
  }
  int status = 0;
  pid_t done = 0;
  for (int waited_ms = 0; (done = ::waitpid(child, &status, WNOHANG)) == 0 && waited_ms < 10000; waited_ms += 5) {
    ::usleep(5000);
  }
  if (done == 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    throw InputError(fmt::format("topology file {}: not a valid hwloc XML topology (hwloc took over 10 s to read it)",
                                 path));
  }
  if (done < 0) return;  // not ours to wait for (SIGCHLD ignored): load it here
  if (WIFSIGNALED(status)) {
    throw InputError(fmt::format("topology file {}: not a valid hwloc XML topology (hwloc crashed reading it: {})",
                                 path, strsignal(WTERMSIG(status))));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw InputError(fmt::format("topology file {}: not a valid hwloc XML topology (hwloc could not load it)", path));
  }
}

}  // namespace

Topology::Topology(const Options& options) : m_impl(std::make_unique<Impl>()) {
  const bool from_xml = options.xml_path.has_value() || options.xml_text.has_value();
  if (from_xml) m_impl->xml_path = options.xml_path.value_or("(XML text)");

  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) {
    throw SystemError(fmt::format("hwloc_topology_init failed: {}", errno_text(errno)));
  }
  m_impl->topology.reset(raw);

  // Without these, hwloc hides every PCI device (accelerators included) and the L1 instruction caches.
  if (hwloc_topology_set_io_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_ALL) != 0 ||
      hwloc_topology_set_icache_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_ALL) != 0) {
    throw SystemError(fmt::format("hwloc: cannot set type filters: {}", errno_text(errno)));
  }

  if (from_xml) {
    const std::string& path = *m_impl->xml_path;
    // Read through the shared bounded reader (regular files under the size limit only), then hand hwloc the
    // bytes: hwloc would read a FIFO or /dev/zero until memory ran out.
    const std::string xml = options.xml_text ? *options.xml_text : read_input_file(path);
    if (xml.empty()) throw InputError(fmt::format("topology file {}: empty, not an hwloc XML topology", path));
    check_xml_depth(xml, fmt::format("topology file {}", path));
    if (xml.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw InputError(fmt::format("topology file {}: too large for hwloc", path));
    }
    // hwloc's buffer length counts the terminating NUL, which std::string keeps after its data.
    if (hwloc_topology_set_xmlbuffer(raw, xml.c_str(), static_cast<int>(xml.size()) + 1) != 0) {
      // hwloc says no more than EINVAL here; anything else (ENOMEM) is worth repeating.
      const int err = errno;
      std::string message = fmt::format("topology file {}: not a valid hwloc XML topology", path);
      if (err != EINVAL && err != 0) message += fmt::format(" ({})", errno_text(err));
      throw InputError(message);
    }
    load_xml_in_child_first(raw, path);
  } else if (hwloc_topology_set_flags(raw, HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM) != 0) {
    throw SystemError(fmt::format("hwloc: cannot set topology flags: {}", errno_text(errno)));
  }

  if (hwloc_topology_load(raw) != 0) {
    const int err = errno;
    if (from_xml) {
      // With libxml2, hwloc parses the file here rather than at set-up: one message for both paths.
      throw InputError(fmt::format("topology file {}: not a valid hwloc XML topology (hwloc could not load it: {})",
                                   *m_impl->xml_path, errno_text(err)));
    }
    throw SystemError(fmt::format("hwloc could not discover this system's topology: {}", errno_text(err)));
  }
  m_impl->hwloc_version = runtime_hwloc_version(raw, from_xml);
}

Topology::~Topology() = default;

bool Topology::is_this_system() const noexcept {
  return !m_impl->xml_path.has_value() && hwloc_topology_is_thissystem(m_impl->topology.get()) != 0;
}

Inventory Topology::inventory() const {
  hwloc_topology_t t = m_impl->topology.get();
  const hwloc_obj_t root = hwloc_get_root_obj(t);
  Inventory inv;
  inv.hwloc_version = m_impl->hwloc_version;

  if (m_impl->xml_path) {
    // Another machine: only what the file says about it, never this host's OS.
    inv.source = "hwloc XML " + *m_impl->xml_path;
    inv.hostname = info_of(root, "HostName");
    inv.os_name = info_of(root, "OSName");
    inv.kernel = info_of(root, "OSRelease");
    inv.os_version = info_of(root, "OSVersion");
    inv.machine = info_of(root, "Architecture");
    inv.memory_total_bytes = root->total_memory;
  } else {
    inv.source = "hwloc";
    inv.hostname = this_hostname();
    const auto os = read_os_release();
    if (auto it = os.find("PRETTY_NAME"); it != os.end()) inv.os_name = it->second;
    if (inv.os_name.empty()) {
      if (auto it = os.find("NAME"); it != os.end()) inv.os_name = it->second;
    }
    if (auto it = os.find("VERSION_ID"); it != os.end()) inv.os_release = it->second;
    utsname u{};
    if (uname(&u) == 0) {
      inv.kernel = u.release;
      inv.os_version = u.version;
      inv.machine = u.machine;
      if (inv.os_name.empty()) inv.os_name = u.sysname;
    }
    inv.memory_total_bytes = meminfo_total_bytes();
    if (inv.memory_total_bytes == 0) inv.memory_total_bytes = root->total_memory;
  }

  int llc_type_index = -1;
  for (int i = 0; i < static_cast<int>(std::size(kDataCachesDeepestFirst)); ++i) {
    if (nb_objs(t, kDataCachesDeepestFirst[i]) > 0) {
      llc_type_index = i;
      break;
    }
  }
  if (nb_objs(t, HWLOC_OBJ_PACKAGE) == 0) {
    inv.packages.push_back(describe_package(t, root, true, llc_type_index));
  } else {
    for (hwloc_obj_t pkg = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PACKAGE, nullptr); pkg != nullptr;
         pkg = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PACKAGE, pkg)) {
      inv.packages.push_back(describe_package(t, pkg, false, llc_type_index));
    }
  }

  inv.caches = describe_caches(t);

  for (hwloc_obj_t node = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, nullptr); node != nullptr;
       node = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, node)) {
    inv.numa_nodes.push_back(NumaNode{static_cast<int>(node->os_index), node->attr->numanode.local_memory});
  }

  for (hwloc_obj_t dev = hwloc_get_next_pcidev(t, nullptr); dev != nullptr; dev = hwloc_get_next_pcidev(t, dev)) {
    const auto& a = dev->attr->pcidev;
    if (!is_accelerator_class(a.class_id)) continue;
    PciDevice d;
    d.id.bus_id = fmt::format("{:04x}:{:02x}:{:02x}.{:01x}", static_cast<unsigned>(a.domain),
                              static_cast<unsigned>(a.bus), static_cast<unsigned>(a.dev),
                              static_cast<unsigned>(a.func));
    d.id.vendor_id = a.vendor_id;
    d.id.device_id = a.device_id;
    d.id.subvendor_id = a.subvendor_id;
    d.id.subdevice_id = a.subdevice_id;
    d.class_id = a.class_id;
    d.class_name = pci_class_name(a.class_id);
    d.vendor_name = info_of(dev, "PCIVendor");
    d.device_name = info_of(dev, "PCIDevice");
    inv.accelerators.push_back(std::move(d));
  }
  // Bus order (as nvidia-smi and rocm-smi list them), not hwloc's tree order, which follows the host bridges.
  std::sort(inv.accelerators.begin(), inv.accelerators.end(),
            [](const PciDevice& a, const PciDevice& b) { return a.id.bus_id < b.id.bus_id; });
  return inv;
}

void Topology::bind_current_thread(int pu_os_index) const {
  if (m_impl->xml_path) throw SystemError("cannot bind threads on a topology loaded from XML");
  hwloc_topology_t t = m_impl->topology.get();
  if (pu_os_index < 0 || hwloc_get_pu_obj_by_os_index(t, static_cast<unsigned>(pu_os_index)) == nullptr) {
    throw SystemError(fmt::format("cannot bind thread to PU {}: no such PU in this topology", pu_os_index));
  }
  Bitmap set(hwloc_bitmap_alloc());
  if (!set || hwloc_bitmap_only(set.get(), static_cast<unsigned>(pu_os_index)) != 0) {
    throw SystemError(fmt::format("cannot bind thread to PU {}: out of memory", pu_os_index));
  }
  if (hwloc_set_cpubind(t, set.get(), HWLOC_CPUBIND_THREAD) != 0) {
    throw SystemError(fmt::format("cannot bind thread to PU {}: {}", pu_os_index, errno_text(errno)));
  }
}

}  // namespace probe
