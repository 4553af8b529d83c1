#pragma once
// Checking a signed statement (probe verify): the envelope, the signature and key, the subjects' digests, and
// the attestation nonce's binding to the challenge and the report.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace probe::evidence {

struct VerifyOptions {
  std::filesystem::path envelope;
  std::optional<std::filesystem::path> key;        // --key NAME.pub
  std::optional<std::filesystem::path> report;     // --report R.json (default: the envelope's name less .intoto.json)
  std::optional<std::string> challenge_hex;        // --challenge: the one the auditor gave must be the one signed
};

struct Check {
  enum class State { ok, failed, not_checked };
  State state = State::not_checked;
  std::string what;    // "signature", "subject R.json", …
  std::string detail;  // "Ed25519 by key 3f2a…", "sha256 differs: statement 1234…, file abcd…"
};

// A subject as the statement names it: which file, its role ("report", "binary", "plugin", …), the signed digest.
struct SignedSubject {
  std::string name, role, sha256;
};

struct VerifyOutcome {
  std::vector<Check> checks;
  std::vector<SignedSubject> subjects;  // every well-formed subject of the statement, checked or not
  [[nodiscard]] bool holds() const noexcept;               // no check failed
  [[nodiscard]] std::vector<std::string> failed() const;  // the names of the checks that failed
};

// Throws InputError (exit 2) naming the file for input it cannot use: an unreadable, truncated or non-JSON
// envelope, one without the DSSE fields, an unusable key file, an unreadable --report. Everything else is a check.
[[nodiscard]] VerifyOutcome verify(const VerifyOptions& options);

// The envelope file written beside a report: R.json → R.json.intoto.json.
[[nodiscard]] std::filesystem::path envelope_path_for(const std::filesystem::path& report);

}  // namespace probe::evidence
