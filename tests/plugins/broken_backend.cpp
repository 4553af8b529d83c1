// Plugins the loader must refuse, one defect per module (PROBE_BROKEN_<KIND> picks it). Each defect is real:
// the module is built and dlopen'ed, nothing is simulated in the loader.
#include <stdexcept>

#include "probe/device.hpp"
#include "probe/plugin.hpp"
#include "probe/version.hpp"

#define PROBE_TEST_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

class BrokenBackend final : public probe::Backend {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "broken"; }
  probe::Availability availability() noexcept override { return {true, {}, "broken 1.0"}; }
  std::vector<std::unique_ptr<probe::Device>> devices() override { return {}; }
};

[[maybe_unused]] void destroy_backend(probe::Backend* b) { delete b; }

}  // namespace

#if defined(PROBE_BROKEN_NOENTRY)
// Exports something, but not the entry point.
PROBE_TEST_EXPORT int probe_backend_entry_v0() { return 0; }

#elif defined(PROBE_BROKEN_BADABI)
PROBE_TEST_EXPORT const probe_backend_entry* probe_backend_entry_v1() {
  static const probe_backend_entry entry{99u, sizeof(probe_backend_entry), "badabi", probe::kVersion,
                                         []() -> probe::Backend* { return new BrokenBackend(); }, destroy_backend};
  return &entry;
}

#elif defined(PROBE_BROKEN_BADVERSION)
PROBE_TEST_EXPORT const probe_backend_entry* probe_backend_entry_v1() {
  static const probe_backend_entry entry{PROBE_PLUGIN_ABI_VERSION, sizeof(probe_backend_entry), "badversion",
                                         "0.0.1", []() -> probe::Backend* { return new BrokenBackend(); },
                                         destroy_backend};
  return &entry;
}

#elif defined(PROBE_BROKEN_UNDEFINED)
// Defined nowhere: a MODULE links with undefined symbols allowed, so only dlopen(RTLD_NOW) finds out.
extern "C" int probe_test_symbol_that_exists_nowhere();

namespace {
class UndefinedBackend final : public probe::Backend {
 public:
  UndefinedBackend() : m_value(probe_test_symbol_that_exists_nowhere()) {}
  [[nodiscard]] std::string_view name() const noexcept override { return "undefined"; }
  probe::Availability availability() noexcept override { return {m_value != 0, {}, {}}; }
  std::vector<std::unique_ptr<probe::Device>> devices() override { return {}; }

 private:
  int m_value;
};
}  // namespace
PROBE_DEFINE_PLUGIN("undefined", UndefinedBackend)

#elif defined(PROBE_BROKEN_THROWS)
namespace {
class ThrowingBackend final : public probe::Backend {
 public:
  ThrowingBackend() { throw std::runtime_error("no such runtime on this machine"); }
  [[nodiscard]] std::string_view name() const noexcept override { return "throws"; }
  probe::Availability availability() noexcept override { return {}; }
  std::vector<std::unique_ptr<probe::Device>> devices() override { return {}; }
};
}  // namespace
PROBE_DEFINE_PLUGIN("throws", ThrowingBackend)

#else
#error "define one PROBE_BROKEN_<KIND>"
#endif
