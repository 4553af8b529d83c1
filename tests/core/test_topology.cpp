// Inventory from hwloc: this machine (whatever it is, only plausibility), and hwloc XML topologies replayed
// from tests/core/data (exact figures, including GPUs that no test machine has).
#include <sched.h>

#include <algorithm>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "probe/error.hpp"
#include "probe/inventory.hpp"

namespace {

using probe::Inventory;
using probe::Topology;

std::string fixture(const char* name) { return std::string(PROBE_TEST_DATA_DIR) + "/" + name; }

Inventory xml_inventory(const char* name) {
  const Topology topo(Topology::Options{fixture(name), {}});
  return topo.inventory();
}

const probe::CacheInfo* find_cache(const Inventory& inv, int level, const std::string& type) {
  const auto it = std::find_if(inv.caches.begin(), inv.caches.end(),
                               [&](const probe::CacheInfo& c) { return c.level == level && c.type == type; });
  return it == inv.caches.end() ? nullptr : &*it;
}

const probe::PciDevice* find_accelerator(const Inventory& inv, std::uint16_t vendor) {
  const auto it = std::find_if(inv.accelerators.begin(), inv.accelerators.end(),
                               [&](const probe::PciDevice& d) { return d.id.vendor_id == vendor; });
  return it == inv.accelerators.end() ? nullptr : &*it;
}

// --- this machine -----------------------------------------------------------------------------------------

TEST(ThisSystem, InventoryIsPlausible) {
  const Topology topo;
  EXPECT_TRUE(topo.is_this_system());
  const Inventory inv = topo.inventory();

  EXPECT_EQ(inv.source, "hwloc");
  EXPECT_FALSE(inv.hostname.empty());
  EXPECT_FALSE(inv.kernel.empty());
  EXPECT_FALSE(inv.machine.empty());
  EXPECT_FALSE(inv.os_name.empty());
  EXPECT_GT(inv.memory_total_bytes, 0u);
  ASSERT_FALSE(inv.hwloc_version.empty());
  EXPECT_EQ(std::count(inv.hwloc_version.begin(), inv.hwloc_version.end(), '.'), 2) << inv.hwloc_version;
  EXPECT_EQ(inv.hwloc_version.front(), '2') << "built against the hwloc 2 API";

  ASSERT_GE(inv.packages.size(), 1u);
  int total_threads = 0;
  for (const auto& p : inv.packages) {
    EXPECT_GE(p.cores, 1);
    EXPECT_GE(p.threads, p.cores);
    EXPECT_EQ(p.core_first_pu.size(), static_cast<std::size_t>(p.cores));
    EXPECT_EQ(p.pus.size(), static_cast<std::size_t>(p.threads));
    EXPECT_TRUE(std::is_sorted(p.pus.begin(), p.pus.end()));
    for (const int pu : p.core_first_pu) {
      EXPECT_NE(std::find(p.pus.begin(), p.pus.end(), pu), p.pus.end()) << "core's first PU " << pu;
    }
    total_threads += p.threads;
  }
  EXPECT_LE(total_threads, static_cast<int>(std::thread::hardware_concurrency()))
      << "hwloc sees at most the PUs this process may use";

  ASSERT_FALSE(inv.caches.empty());
  const auto* l1 = find_cache(inv, 1, "data");
  if (l1 == nullptr) l1 = find_cache(inv, 1, "unified");
  ASSERT_NE(l1, nullptr) << "an L1 data cache";
  EXPECT_GT(l1->size_bytes, 0u);
  EXPECT_GT(l1->line_bytes, 0);
  EXPECT_GE(l1->count, 1);
  EXPECT_GE(l1->pus_per_instance, 1);
  const auto last = std::max_element(inv.caches.begin(), inv.caches.end(),
                                     [](const auto& a, const auto& b) { return a.level < b.level; });
  EXPECT_GE(last->level, 1);
  EXPECT_GT(inv.packages.front().llc_bytes, 0u);

  EXPECT_FALSE(inv.numa_nodes.empty());
  for (const auto& a : inv.accelerators) EXPECT_TRUE(probe::is_accelerator_class(a.class_id)) << a.id.bus_id;
}

TEST(ThisSystem, InventoryIsStableAcrossLoads) {
  EXPECT_EQ(Topology().inventory(), Topology().inventory());
}

TEST(ThisSystem, BindsTheCallingThreadToOnePu) {
  const Topology topo;
  const Inventory inv = topo.inventory();
  ASSERT_FALSE(inv.packages.empty());
  const int pu = inv.packages.front().pus.front();  // PU 0 unless a cpuset excludes it
  // On its own thread, so the test runner's thread keeps its placement.
  int cpu_after = -1;
  std::string error;
  std::thread worker([&] {
    try {
      topo.bind_current_thread(pu);
      cpu_after = sched_getcpu();
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  worker.join();
  EXPECT_EQ(error, "");
  EXPECT_EQ(cpu_after, pu);
}

TEST(ThisSystem, BindingToAMissingPuIsASystemError) {
  const Topology topo;
  try {
    topo.bind_current_thread(1 << 20);
    FAIL() << "expected SystemError";
  } catch (const probe::SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("1048576"), std::string::npos) << e.what();
  }
  EXPECT_THROW(topo.bind_current_thread(-1), probe::SystemError);
}

// --- a replayed 2-socket GPU node --------------------------------------------------------------------------

TEST(XmlTopology, DescribesTheNodeInTheFile) {
  const Inventory inv = xml_inventory("two_socket_gpu_node.xml");
  EXPECT_EQ(inv.source, "hwloc XML " + fixture("two_socket_gpu_node.xml"));
  EXPECT_EQ(inv.hostname, "fixture-node");
  EXPECT_EQ(inv.os_name, "Linux");
  EXPECT_EQ(inv.kernel, "5.15.0-fixture");
  EXPECT_EQ(inv.os_version, "#1 SMP fixture");
  EXPECT_EQ(inv.machine, "x86_64");
  EXPECT_EQ(inv.os_release, "") << "the file does not say, and this machine's release would be a lie";
  EXPECT_EQ(inv.memory_total_bytes, 64ull << 30);
  EXPECT_FALSE(inv.hwloc_version.empty());
}

TEST(XmlTopology, TwoPackagesOfFourCoresTimesTwoThreads) {
  const Inventory inv = xml_inventory("two_socket_gpu_node.xml");
  ASSERT_EQ(inv.packages.size(), 2u);
  const auto& p0 = inv.packages[0];
  const auto& p1 = inv.packages[1];
  EXPECT_EQ(p0.index, 0);
  EXPECT_EQ(p1.index, 1);
  EXPECT_EQ(p0.vendor, "GenuineIntel");
  EXPECT_EQ(p0.model_name, "Intel(R) Xeon(R) Platinum 8480+");
  EXPECT_EQ(p0.family, 6);
  EXPECT_EQ(p0.model, 143);
  EXPECT_EQ(p0.stepping, 8);
  EXPECT_EQ(p1.stepping, -1) << "absent in the file";
  for (const auto& p : inv.packages) {
    EXPECT_EQ(p.cores, 4);
    EXPECT_EQ(p.threads, 8);
    EXPECT_EQ(p.llc_bytes, 32ull << 20);
  }
  // SMT siblings are numbered +8 apart, as on real Intel nodes: one thread per core goes on 0-3 and 4-7.
  EXPECT_EQ(p0.core_first_pu, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(p1.core_first_pu, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(p0.pus, (std::vector<int>{0, 1, 2, 3, 8, 9, 10, 11}));
  EXPECT_EQ(p1.pus, (std::vector<int>{4, 5, 6, 7, 12, 13, 14, 15}));
}

TEST(XmlTopology, CachesOnePerLevelAndType) {
  const Inventory inv = xml_inventory("two_socket_gpu_node.xml");
  const std::vector<probe::CacheInfo> expected{
      {1, "data", 48u << 10, 64, 8, 2},
      {1, "instruction", 32u << 10, 64, 8, 2},
      {2, "unified", 1u << 20, 64, 8, 2},
      {3, "unified", 32u << 20, 64, 2, 8},
  };
  EXPECT_EQ(inv.caches, expected);
}

TEST(XmlTopology, NumaNodes) {
  const Inventory inv = xml_inventory("two_socket_gpu_node.xml");
  const std::vector<probe::NumaNode> expected{{0, 32ull << 30}, {1, 32ull << 30}};
  EXPECT_EQ(inv.numa_nodes, expected);
}

TEST(XmlTopology, ListsExactlyTheTwoAccelerators) {
  const Inventory inv = xml_inventory("two_socket_gpu_node.xml");
  ASSERT_EQ(inv.accelerators.size(), 2u) << "not the host bridge, the NIC, the PCIe switch or the HCA";
  EXPECT_EQ(inv.accelerators[0].id.bus_id, "0000:18:00.0") << "in bus order";
  EXPECT_EQ(inv.accelerators[1].id.bus_id, "0000:c1:00.0");

  const auto* nv = find_accelerator(inv, 0x10de);
  ASSERT_NE(nv, nullptr);
  EXPECT_EQ(nv->id.bus_id, "0000:18:00.0");
  EXPECT_EQ(nv->id.device_id, 0x2330);
  EXPECT_EQ(nv->id.subvendor_id, 0x10de);
  EXPECT_EQ(nv->id.subdevice_id, 0x16c1);
  EXPECT_EQ(nv->class_id, 0x0302);
  EXPECT_EQ(nv->class_name, "3D");
  EXPECT_EQ(nv->vendor_name, "NVIDIA Corporation");
  EXPECT_EQ(nv->device_name, "GH100 [H100 SXM5 80GB]");

  const auto* amd = find_accelerator(inv, 0x1002);
  ASSERT_NE(amd, nullptr);
  EXPECT_EQ(amd->id.bus_id, "0000:c1:00.0");
  EXPECT_EQ(amd->id.device_id, 0x74a1);
  EXPECT_EQ(amd->id.subvendor_id, 0x1002);
  EXPECT_EQ(amd->id.subdevice_id, 0x74a1);
  EXPECT_EQ(amd->class_id, 0x1200);
  EXPECT_EQ(amd->class_name, "ProcessingAccelerator");
  EXPECT_EQ(amd->device_name, "Aqua Vanjaram [Instinct MI300X]");
}

// A BMC's ASPEED VGA is class 0x0300: the inventory lists it (the node assessment decides what it is).
TEST(XmlTopology, ListsTheBmcDisplayControllerNextToTheH100) {
  const Inventory inv = xml_inventory("bmc_gpu_node.xml");
  ASSERT_EQ(inv.accelerators.size(), 2u);
  EXPECT_EQ(inv.accelerators[0].id.bus_id, "0000:03:00.0") << "in bus order";
  EXPECT_EQ(inv.accelerators[0].id.vendor_id, 0x1a03);
  EXPECT_EQ(inv.accelerators[0].id.device_id, 0x2000);
  EXPECT_EQ(inv.accelerators[0].class_id, 0x0300);
  EXPECT_EQ(inv.accelerators[0].device_name, "ASPEED Graphics Family");
  EXPECT_EQ(inv.accelerators[1].id.device_id, 0x2330);
  const Inventory inv2 = xml_inventory("bmc_unknown_accelerator_node.xml");
  ASSERT_EQ(inv2.accelerators.size(), 3u);
  EXPECT_EQ(inv2.accelerators[2].id.bus_id, "0000:65:00.0");
  EXPECT_EQ(inv2.accelerators[2].id.vendor_id, 0x1d22);
}

TEST(XmlTopology, CannotBindThreads) {
  const Topology topo(Topology::Options{fixture("two_socket_gpu_node.xml"), {}});
  EXPECT_FALSE(topo.is_this_system());
  try {
    topo.bind_current_thread(0);
    FAIL() << "expected SystemError";
  } catch (const probe::SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("XML"), std::string::npos) << e.what();
  }
}

TEST(XmlTopology, WithoutPackagesTheMachineIsOnePackage) {
  const Inventory inv = xml_inventory("no_packages.xml");
  ASSERT_EQ(inv.packages.size(), 1u);
  const auto& p = inv.packages.front();
  EXPECT_EQ(p.index, 0);
  EXPECT_EQ(p.cores, 4);
  EXPECT_EQ(p.threads, 8);
  EXPECT_EQ(p.core_first_pu, (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(p.llc_bytes, 2u * 512u * 1024u) << "both L2 instances are in the machine";
  EXPECT_EQ(p.family, -1);
  EXPECT_EQ(p.vendor, "");
  EXPECT_TRUE(inv.accelerators.empty());
  EXPECT_EQ(inv.hostname, "") << "the file names no host";
}

// --- files hwloc cannot use ---------------------------------------------------------------------------------

// The message names the file and says what is wrong with it.
void expect_input_error(const std::string& path, const std::string& what_is_wrong) {
  try {
    const Topology topo(Topology::Options{path, {}});
    FAIL() << "expected InputError for " << path;
  } catch (const probe::InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(what_is_wrong), std::string::npos) << message;
  }
}

TEST(XmlTopology, MalformedFileIsAnInputError) {
  expect_input_error(fixture("malformed.xml"), "not a valid hwloc XML topology");
}

TEST(XmlTopology, MissingFileIsAnInputError) {
  expect_input_error(fixture("no_such_file.xml"), "No such file or directory");
}

TEST(XmlTopology, FolderIsAnInputError) { expect_input_error(PROBE_TEST_DATA_DIR, "not a regular file"); }

TEST(XmlTopology, NonXmlFileIsAnInputError) {
  // Exists and is readable, but is not XML at all.
  expect_input_error(fixture("make_fixtures.py"), "not a valid hwloc XML topology");
}

// --- PCI classes ----------------------------------------------------------------------------------------------

TEST(AcceleratorClass, TruthTable) {
  // Display controllers (VGA, XGA, 3D, other) and processing accelerators are; co-processors too.
  for (const int c : {0x0300, 0x0301, 0x0302, 0x0380, 0x1200, 0x1201, 0x12ff, 0x0b40}) {
    EXPECT_TRUE(probe::is_accelerator_class(static_cast<std::uint16_t>(c))) << std::hex << c;
  }
  // Bridges, NICs, InfiniBand, storage, other processors, unclassified.
  for (const int c : {0x0000, 0x0100, 0x0108, 0x0200, 0x0207, 0x0600, 0x0604, 0x0b00, 0x0b20, 0x0b30,
                                0x0b41, 0x1100, 0x1300, 0x0400, 0xffff}) {
    EXPECT_FALSE(probe::is_accelerator_class(static_cast<std::uint16_t>(c))) << std::hex << c;
  }
}

}  // namespace
