// Whether Linux lets this process use the AMX tile state (see amx_permission in cpu_kernels.hpp).
// Linux x86 documentation, "Using XSTATE features in user space applications" (Documentation/arch/x86/xstate.rst):
// ARCH_GET_XCOMP_SUPP = 0x1021 returns the supported feature bitmap, ARCH_REQ_XCOMP_PERM = 0x1023 requests
// permission for a dynamically enabled feature (XTILEDATA = 18); both appeared in Linux 5.16.
#include <cerrno>
#include <string>
#include <system_error>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu {
namespace {

constexpr int kArchGetXcompSupp = 0x1021;
constexpr int kArchReqXcompPerm = 0x1023;
constexpr unsigned kXfeatureXtilecfg = 17;
constexpr unsigned kXfeatureXtiledata = 18;
constexpr std::uint64_t kTileMask = (std::uint64_t{1} << kXfeatureXtilecfg) | (std::uint64_t{1} << kXfeatureXtiledata);

std::string errno_text(int err) { return std::generic_category().message(err); }

#if defined(__linux__)
int real_get_xcomp_supp(std::uint64_t* mask) noexcept {
  unsigned long m = 0;  // the kernel writes an unsigned long
  if (syscall(SYS_arch_prctl, kArchGetXcompSupp, &m) != 0) return errno;
  *mask = m;
  return 0;
}
int real_req_xcomp_perm(unsigned xfeature) noexcept {
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, static_cast<unsigned long>(xfeature)) != 0) return errno;
  return 0;
}
#endif

AmxPermission deny(AmxPermissionStatus s, std::string reason) { return AmxPermission{s, std::move(reason)}; }

}  // namespace

AmxPermission evaluate_amx_permission(const CpuFeatures& f, const AmxSyscalls& os) {
  using S = AmxPermissionStatus;
  if (!f.amx_tile) return deny(S::no_cpu_support, "no AMX on this CPU (CPUID leaf 7: no AMX-TILE)");
  if (!f.os_amx) {
    return deny(S::os_disabled,
                "AMX tile state not enabled by the OS or hypervisor (XCR0 bits 17/18 clear)");
  }
  if (os.get_xcomp_supp == nullptr || os.req_xcomp_perm == nullptr) {
    return deny(S::not_linux, "AMX tile state not available: probe asks for it only on Linux (arch_prctl)");
  }
  std::uint64_t mask = 0;
  if (const int err = os.get_xcomp_supp(&mask); err != 0) {
    if (err == EINVAL) {
      return deny(S::kernel_too_old,
                  "AMX tile state not available: arch_prctl(ARCH_GET_XCOMP_SUPP): " + errno_text(err) +
                      " (kernel too old: AMX needs Linux >= 5.16)");
    }
    return deny(S::query_failed, "AMX tile state not available: arch_prctl(ARCH_GET_XCOMP_SUPP): " + errno_text(err));
  }
  if ((mask & kTileMask) != kTileMask) {
    return deny(S::not_offered,
                "AMX tile state not offered by Linux: arch_prctl(ARCH_GET_XCOMP_SUPP) lacks XTILECFG/XTILEDATA "
                "(bits 17/18)");
  }
  if (const int err = os.req_xcomp_perm(kXfeatureXtiledata); err != 0) {
    return deny(S::refused, "AMX tile state refused by Linux: arch_prctl(ARCH_REQ_XCOMP_PERM): " + errno_text(err));
  }
  return AmxPermission{S::granted, {}};
}

AmxPermission amx_permission(const CpuFeatures& f) {
#if defined(__linux__)
  const AmxSyscalls os{real_get_xcomp_supp, real_req_xcomp_perm};
#else
  const AmxSyscalls os{nullptr, nullptr};
#endif
  // The CPU and XCR0 steps need no system call; only a CPU that passes them asks Linux, and only once: the
  // answer is a fact about this process (a grant lasts for its lifetime), kept in a function-local static.
  if (!f.amx_tile || !f.os_amx) return evaluate_amx_permission(f, os);
  static const AmxPermission answer = [&] {
    CpuFeatures tile_only;
    tile_only.amx_tile = tile_only.os_amx = true;
    return evaluate_amx_permission(tile_only, os);
  }();
  return answer;
}

}  // namespace probe::cpu
