#pragma once
// Per-microarchitecture instruction throughput (data/cpu_uarch.json), for theoretical peaks:
// cores × instructions per cycle × ops per instruction × measured clock.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace probe::cpu {

struct UarchThroughput {
  double per_cycle = 0;  // counted instructions per cycle per core
  std::string source;
  bool confirmed = true;  // false: a presumed figure (optional "confirmed": false in the JSON)
};

struct Uarch {
  std::string id, name, vendor, note;
  int family = -1;
  std::vector<std::pair<int, int>> models;           // inclusive ranges
  std::map<std::string, UarchThroughput> throughput;  // "<kernel id>/<variant>"
};

class UarchTable {
 public:
  // Throws InputError naming the file, the entry and the field for anything malformed.
  [[nodiscard]] static UarchTable parse(std::string_view json_text, std::string_view file_name);
  // The table compiled into probe.
  [[nodiscard]] static const UarchTable& builtin();
  [[nodiscard]] const Uarch* find(std::string_view vendor, int family, int model) const noexcept;
  [[nodiscard]] const std::vector<Uarch>& entries() const noexcept { return m_entries; }

 private:
  std::vector<Uarch> m_entries;
};

}  // namespace probe::cpu
