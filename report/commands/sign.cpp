#include "sign.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fmt/format.h>
#include <iostream>

#include "base64.hpp"
#include "dsse.hpp"
#include "json_io.hpp"
#include "keys.hpp"
#include "probe/error.hpp"
#include "rules.hpp"
#include "verify.hpp"

namespace probe::cli {
namespace {

constexpr std::size_t kMaxChallengeBytes = 256;
constexpr std::string_view kBuiltInSuffix = " (built-in)";

std::string absolute(const std::string& p) {
  std::error_code ec;
  const auto a = std::filesystem::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

// A data file as the assessment named it: compiled in ("X (built-in)") or a path read from disk.
evidence::Subject data_subject(const std::string& file, const std::string& sha256, const std::string& role,
                               std::string_view embedded_dir) {
  if (file.ends_with(kBuiltInSuffix)) {
    return {fmt::format("{}{}{}", evidence::kEmbeddedPrefix, embedded_dir,
                        file.substr(0, file.size() - kBuiltInSuffix.size())),
            role, sha256};
  }
  return {absolute(file), role, sha256};
}

}  // namespace

void add_sign_options(CLI::App& app, SignOptions& o) {
  app.add_option("--sign", o.key_file,
                 "Also write a signed in-toto statement of the run beside the --json report (R.json.intoto.json), "
                 "signed with this key (probe keygen)")
      ->type_name("NAME.key");
  app.add_option("--challenge", o.challenge,
                 "With --sign: the auditor's challenge (hex, up to 256 bytes), bound into the statement and the GPU "
                 "attestation nonce")
      ->type_name("HEX");
}

RunSigner::RunSigner(const SignOptions& o, const std::string& json_file) {
  if (json_file.empty()) throw InputError("--sign: needs --json FILE (the statement signs the JSON report)");
  evidence::require_signing();
  const auto raw = evidence::hex_decode(o.challenge);
  if (!raw || raw->size() > kMaxChallengeBytes) {
    throw InputError(fmt::format("--challenge: '{:.80}' is not hex of at most {} bytes (an even number of 0-9a-f digits)",
                                 o.challenge, kMaxChallengeBytes));
  }
  m_challenge = *raw;
  m_challenge_hex = evidence::hex_encode(m_challenge);
  m_key.reset(new evidence::SecretKey(evidence::read_secret_key(o.key_file)));
  struct stat st {};
  if (::stat(o.key_file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    std::cerr << fmt::format("probe: warning: --sign {}: readable by others (mode {:o}); chmod 600 it\n", o.key_file,
                             st.st_mode & 0777);
  }
  m_envelope_path = evidence::envelope_path_for(json_file).string();
  report::check_writable(m_envelope_path, "--sign (statement)");
  m_run_id = evidence::new_run_id();
}

RunSigner::~RunSigner() = default;

std::string RunSigner::describe() const {
  return fmt::format("signed (Ed25519, key id {}): statement {}; check with probe verify {} --key NAME.pub",
                     m_key->public_key().keyid().substr(0, 16), m_envelope_path, m_envelope_path);
}

std::string RunSigner::nonce(std::string_view report_text) const {
  return evidence::attestation_nonce(m_challenge, rules::sha256_hex(report_text));
}

std::string RunSigner::write(const SignedRun& run) const {
  evidence::RunEvidence ev;
  ev.run_id = run.report->run_id.empty() ? m_run_id : run.report->run_id;  // the report names the same run
  ev.challenge_hex = m_challenge_hex;
  ev.command = run.command;
  ev.started_at = run.report->started_at;
  ev.finished_at = run.report->finished_at;
  ev.report_status = run.report->status;
  ev.signer_keyid = m_key->public_key().keyid();
  ev.subjects.push_back({std::filesystem::path(run.report_path).filename().string(), "report",
                         rules::sha256_hex(run.report_text)});
  ev.subjects.push_back({run.exe, "binary", evidence::file_sha256(run.exe)});
  for (const auto& p : run.report->plugins) {
    if (p.loaded) ev.subjects.push_back({absolute(p.path), "plugin", evidence::file_sha256(p.path)});
  }
  const nlohmann::json prov = run.assessment->provenance_json();
  ev.subjects.push_back(data_subject(prov["chip_database"]["file"], prov["chip_database"]["sha256"], "chip-database", "data/"));
  for (const auto& r : prov["rulesets"]) ev.subjects.push_back(data_subject(r["file"], r["sha256"], "rules", "data/rules/"));
  for (auto& s : evidence::embedded_data_subjects()) ev.subjects.push_back(std::move(s));
  for (const auto& f : run.input_files) ev.subjects.push_back({absolute(f), "input", evidence::file_sha256(f)});
  ev.devices = run.devices;

  const std::string payload = evidence::statement_json(ev).dump(2);
  evidence::Envelope env;
  env.payload_type = std::string(evidence::kInTotoPayloadType);
  env.payload_base64 = evidence::base64_encode(payload);
  env.signatures.push_back({ev.signer_keyid, evidence::base64_encode(m_key->sign(evidence::pae(env.payload_type, payload)))});
  report::write_file_atomically(m_envelope_path, evidence::to_json_text(env));

  std::string out = fmt::format("\nSigned statement: {} (Ed25519, key id {}, {} subjects; check with probe verify {} "
                                "--key NAME.pub)\n",
                                m_envelope_path, ev.signer_keyid.substr(0, 16), ev.subjects.size(), m_envelope_path);
  for (const auto& d : ev.devices) {
    out += d.attestation.available
               ? fmt::format("  {}: attestation recorded ({}, {} bytes)\n", d.info.id, d.attestation.source,
                             d.attestation.report.size())
               : fmt::format("  {}: attestation: not available ({})\n", d.info.id, d.attestation.reason);
  }
  return out;
}

}  // namespace probe::cli
