#pragma once
// The signed statement of one run: an in-toto Statement v1 whose subjects are the SHA-256 digests of the report
// and of everything that produced it, and whose predicate (kPredicateType, README "Signed reports") records the
// run, the auditor's challenge, the host, each device's identity and attestation, and the build.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "probe/device.hpp"

namespace probe::evidence {

inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kPredicateType = "https://probe.invalid/attestation/measurement-run/v1";
// Prefix of a subject compiled into the probe binary (its digest is then covered by the binary's digest too).
inline constexpr std::string_view kEmbeddedPrefix = "probe-embedded:";
// The domain tag of the attestation nonce: SHA-256(tag ‖ challenge ‖ SHA-256(report)).
inline constexpr std::string_view kNonceDomainTag = "probe attestation nonce v1";

struct Subject {
  std::string name;    // a file's absolute path, the report's file name, or kEmbeddedPrefix + data file
  std::string role;    // "report", "binary", "plugin", "chip-database", "rules", "cpu-uarch", "schema", …
  std::string sha256;  // lower-case hex
};

struct DeviceEvidence {
  DeviceInfo info;
  Attestation attestation;
};

struct RunEvidence {
  std::string run_id, challenge_hex, command, started_at, finished_at, report_status;
  std::string signer_keyid;
  std::vector<Subject> subjects;  // the report first
  std::vector<DeviceEvidence> devices;
};

// The 32-byte nonce the devices sign: SHA-256(kNonceDomainTag ‖ challenge bytes ‖ report digest bytes).
[[nodiscard]] std::string attestation_nonce(std::string_view challenge, std::string_view report_sha256_hex);

// SHA-256 (hex) of a whole file, read in full; throws InputError naming the file when it cannot be read.
[[nodiscard]] std::string file_sha256(const std::string& path);

// Hostname, machine id and the DMI system identity, each value or "not readable (<why>)".
[[nodiscard]] nlohmann::json host_identity();
// Version, git commit, compiler, flags (captured at configure time).
[[nodiscard]] nlohmann::json build_identity();
// The data compiled into this binary that a run uses: chip database and rules are in the report's provenance;
// this adds cpu_uarch.json and the report schema.
[[nodiscard]] std::vector<Subject> embedded_data_subjects();
// A fresh random run id (UUID v4 text).
[[nodiscard]] std::string new_run_id();

[[nodiscard]] nlohmann::json to_json(const Attestation& a);
// Throws InputError naming `source` for a malformed attestation.
[[nodiscard]] Attestation attestation_from_json(const nlohmann::json& j, std::string_view source);

[[nodiscard]] nlohmann::json statement_json(const RunEvidence& run);

}  // namespace probe::evidence
