#pragma once
// The hook for signed reports: a report R.json may carry an in-toto statement beside it, R.json.intoto.json
// (a DSSE envelope). replay and compare say whether the report matches the digest signed there; the signature
// itself needs the signer's public key (probe verify --key), which these commands are not given.
#include <filesystem>
#include <optional>
#include <string>

namespace probe::cli {

// R.json -> R.json.intoto.json when that file exists beside the report; nullopt otherwise.
[[nodiscard]] std::optional<std::filesystem::path> find_statement(const std::filesystem::path& report);

struct SignatureState {
  bool checked = false;  // a verification ran
  bool held = false;     // it ran and the signature matched the report
  std::optional<std::filesystem::path> statement;
  std::string text;  // "not checked (no statement beside the report)"
  // The SHA-256 of the probe binary that made the report, as its statement names it (empty: no statement).
  // Not checked against anything here: it says which binary measured, beside the one that renders.
  std::string run_binary_sha256;
};

// The state of the report's signature, in words for the output's "signature:" line.
[[nodiscard]] SignatureState signature_state(const std::filesystem::path& report);

}  // namespace probe::cli
