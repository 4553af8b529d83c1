#pragma once
// --sign KEY [--challenge HEX] on a report run: a signed in-toto statement of the run beside the JSON report
// (R.json → R.json.intoto.json). Everything it needs is checked before anything is measured.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "assessment.hpp"
#include "report.hpp"
#include "statement.hpp"

namespace probe::evidence {
class SecretKey;
}

namespace probe::cli {

struct SignOptions {
  std::string key_file;   // --sign NAME.key
  std::string challenge;  // --challenge HEX: the auditor's, bound into the statement and the attestation nonce
};

// Adds --sign and --challenge to the report command line.
void add_sign_options(CLI::App& app, SignOptions& o);

// What the run hands over once the report is written.
struct SignedRun {
  std::string report_path, report_text, exe, command;
  const report::Report* report = nullptr;
  const report::Assessment* assessment = nullptr;
  std::vector<std::string> input_files;  // data files read from disk besides rules and chips (--cpu-description, --topology)
  std::vector<evidence::DeviceEvidence> devices;
};

class RunSigner {
 public:
  // Throws InputError (exit 2) for a missing --json, an unreadable key, a bad challenge or an envelope path that
  // cannot be written, or when this build cannot sign.
  RunSigner(const SignOptions& options, const std::string& json_file);
  ~RunSigner();
  RunSigner(const RunSigner&) = delete;
  RunSigner& operator=(const RunSigner&) = delete;

  // The nonce each device attests: binds the attestation to the challenge and to this report's text.
  [[nodiscard]] std::string nonce(std::string_view report_text) const;
  // The signature state for the printers' header: the statement's path, the key id, how to check it.
  [[nodiscard]] std::string describe() const;
  // Builds, signs and writes the envelope (atomically); returns the lines to print after the report.
  std::string write(const SignedRun& run) const;

 private:
  std::unique_ptr<evidence::SecretKey> m_key;
  std::string m_challenge;  // raw bytes
  std::string m_challenge_hex, m_envelope_path, m_run_id;
};

}  // namespace probe::cli
