// String forms of the contract's enums: one table each, used by the printers and the JSON reader alike.
#include <array>
#include <string_view>
#include <utility>

#include "probe/measurement.hpp"

namespace probe {
namespace {

template <typename E, std::size_t N>
constexpr std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) noexcept {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "unknown";
}

template <typename E, std::size_t N>
constexpr std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table,
                                    std::string_view s) noexcept {
  for (const auto& [value, name] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<Unit, std::string_view>, 2> kUnits{{{Unit::ops_per_s, "ops/s"},
                                                                   {Unit::bytes_per_s, "B/s"}}};
constexpr std::array<std::pair<KernelClass, std::string_view>, 2> kClasses{
    {{KernelClass::compute, "compute"}, {KernelClass::memory, "memory"}}};
constexpr std::array<std::pair<Status, std::string_view>, 4> kStatuses{{{Status::ok, "ok"},
                                                                        {Status::skipped, "skipped"},
                                                                        {Status::unavailable, "unavailable"},
                                                                        {Status::failed, "failed"}}};
}  // namespace

std::string_view to_string(Unit u) noexcept { return name_of(kUnits, u); }
std::string_view to_string(KernelClass c) noexcept { return name_of(kClasses, c); }
std::string_view to_string(Status s) noexcept { return name_of(kStatuses, s); }
std::optional<Unit> unit_from_string(std::string_view s) noexcept { return value_of(kUnits, s); }
std::optional<KernelClass> kernel_class_from_string(std::string_view s) noexcept { return value_of(kClasses, s); }
std::optional<Status> status_from_string(std::string_view s) noexcept { return value_of(kStatuses, s); }

}  // namespace probe
