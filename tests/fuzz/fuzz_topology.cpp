// libFuzzer harness: an hwloc XML topology (--topology FILE), handed to hwloc from memory as the file reader
// does after its bounded read, then the inventory probe builds from it (packages, caches, PCI devices).
// InputError is the expected rejection; any other exception is a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "probe/error.hpp"
#include "probe/inventory.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  probe::Topology::Options options;
  options.xml_path = "fuzz_topology.xml";
  options.xml_text = std::string(reinterpret_cast<const char*>(data), size);
  try {
    const probe::Topology topology(options);
    (void)topology.inventory();
  } catch (const probe::InputError&) {
  }
  return 0;
}
