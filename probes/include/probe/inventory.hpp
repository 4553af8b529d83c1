#pragma once
// What is in the node, from hwloc: host, CPU packages, caches, NUMA nodes and accelerator-class PCI devices.
// The first section of every report, and the way a GPU whose runtime is missing still gets named.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probe/device.hpp"

namespace probe {

struct CacheInfo {
  int level = 0;              // 1, 2, 3
  std::string type;           // "data", "instruction", "unified"
  std::uint64_t size_bytes = 0;  // of one instance
  int line_bytes = 0;
  int count = 0;              // instances in the node
  int pus_per_instance = 0;   // how many PUs share one instance
  friend bool operator==(const CacheInfo&, const CacheInfo&) = default;
};

struct CpuPackage {
  int index = 0;              // logical index
  std::string vendor;         // "AuthenticAMD"
  std::string model_name;     // "AMD EPYC 9654 96-Core Processor"
  int family = -1, model = -1, stepping = -1;
  int cores = 0, threads = 0;
  std::vector<int> core_first_pu;  // per core, the OS index of its first PU: where one thread per core goes
  std::vector<int> pus;            // OS indexes of every PU in the package
  std::uint64_t llc_bytes = 0;     // last-level cache in this package, all instances summed
  friend bool operator==(const CpuPackage&, const CpuPackage&) = default;
};

struct NumaNode {
  int os_index = 0;
  std::uint64_t memory_bytes = 0;  // as hwloc sees it (a VM can hot-plug memory outside any node)
  friend bool operator==(const NumaNode&, const NumaNode&) = default;
};

struct PciDevice {
  PciId id;
  std::uint16_t class_id = 0;  // 0x0300 VGA, 0x0302 3D, 0x0380 display, 0x1200 processing accelerator, 0x0b40 co-processor
  std::string class_name;      // "3D", "VGA", "ProcessingAccelerator"
  std::string vendor_name, device_name;  // from the PCI database when hwloc has them
  friend bool operator==(const PciDevice&, const PciDevice&) = default;
};

struct Inventory {
  std::string hostname, os_name, os_release, os_version, kernel, machine;  // machine: "x86_64"
  std::string hwloc_version;
  std::string source;          // "hwloc" or "hwloc XML <path>"
  std::uint64_t memory_total_bytes = 0;  // the OS's total (meminfo), not the NUMA nodes' sum
  std::vector<CpuPackage> packages;
  std::vector<CacheInfo> caches;
  std::vector<NumaNode> numa_nodes;
  std::vector<PciDevice> accelerators;  // display / 3D / processing-accelerator / co-processor classes only
  friend bool operator==(const Inventory&, const Inventory&) = default;
};

// True for the PCI classes that can be a GPU or an accelerator.
[[nodiscard]] bool is_accelerator_class(std::uint16_t class_id) noexcept;

// RAII over an hwloc topology: loading, inventory and thread placement. Not copyable.
class Topology {
 public:
  struct Options {
    std::optional<std::string> xml_path;  // load an exported topology instead of this machine (tests, replays)
    // The exported XML itself instead of a file (fuzzing, in-memory replays); xml_path, when also set, names it.
    std::optional<std::string> xml_text;
  };
  // Throws InputError for an unreadable or malformed XML file (naming the file), SystemError otherwise.
  explicit Topology(const Options& options = {});
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  [[nodiscard]] Inventory inventory() const;
  // Pins the calling thread to one PU (OS index). Throws SystemError when the OS refuses.
  void bind_current_thread(int pu_os_index) const;
  [[nodiscard]] bool is_this_system() const noexcept;  // false when loaded from XML: binding is impossible

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace probe
