#include "verify.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base64.hpp"
#include "dsse.hpp"
#include "keys.hpp"
#include "probe/error.hpp"
#include "probe/input_file.hpp"
#include "rules.hpp"
#include "statement.hpp"

namespace probe::evidence {
namespace {

using nlohmann::json;
using State = Check::State;

constexpr std::string_view kEnvelopeSuffix = ".intoto.json";

// A field of an object read as the verifier must: a missing field or one of another type is the default, never an
// exception (json::value throws json::type_error on a type mismatch, and the statement is untrusted input).
std::string text_field(const json& o, const char* key, std::string def = {}) {
  if (!o.is_object()) return def;
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : def;
}
bool flag_field(const json& o, const char* key) {
  if (!o.is_object()) return false;
  const auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

std::string short_hex(std::string_view h) { return h.size() > 16 ? std::string(h.substr(0, 16)) + "…" : std::string(h); }

// The subject list of a statement, or why it is not one.
struct ParsedStatement {
  json doc;
  std::string error;
};

ParsedStatement parse_statement(const std::string& payload) {
  ParsedStatement p;
  p.doc = json::parse(payload, nullptr, false);
  if (p.doc.is_discarded() || !p.doc.is_object()) {
    p.error = "the payload is not JSON";
  } else if (text_field(p.doc, "_type") != kStatementType) {
    p.error = fmt::format("the payload is not an in-toto Statement v1 (_type is not {})", kStatementType);
  } else if (!p.doc.contains("subject") || !p.doc["subject"].is_array()) {
    p.error = "the statement has no subject list";
  } else if (text_field(p.doc, "predicateType") != kPredicateType) {
    p.error = fmt::format("predicateType is not {}", kPredicateType);
  } else if (!p.doc.contains("predicate") || !p.doc["predicate"].is_object()) {
    p.error = "the statement has no predicate";
  }
  return p;
}

void check_subjects(const json& statement, const VerifyOptions& o, VerifyOutcome& out, std::string& report_digest) {
  for (const auto& s : statement["subject"]) {
    const std::string name = s.is_object() && s.contains("name") && s["name"].is_string() ? s["name"].get<std::string>() : "";
    // A role that is not a string is no role (json::value would throw on it: a malformed statement is a check).
    const std::string role = s.is_object() && s.contains("annotations") && s["annotations"].is_object() &&
                                     s["annotations"].contains("role") && s["annotations"]["role"].is_string()
                                 ? s["annotations"]["role"].get<std::string>()
                                 : "";
    std::string want;
    if (s.is_object() && s.contains("digest") && s["digest"].is_object() && s["digest"].contains("sha256") &&
        s["digest"]["sha256"].is_string()) {
      want = s["digest"]["sha256"].get<std::string>();
    }
    Check c{State::not_checked, fmt::format("subject {}", name.empty() ? "(unnamed)" : name), {}};
    if (name.empty() || want.size() != 64 || !hex_decode(want)) {
      c.state = State::failed;
      c.detail = "malformed subject (a name and a SHA-256 digest are required)";
      out.checks.push_back(std::move(c));
      continue;
    }
    out.subjects.push_back({name, role, want});
    std::error_code ec;
    if (role == "report") {
      report_digest = want;
      std::filesystem::path path;
      bool given = o.report.has_value();
      if (given) {
        path = *o.report;
      } else {
        const std::string env = o.envelope.string();
        path = env.ends_with(kEnvelopeSuffix) ? env.substr(0, env.size() - kEnvelopeSuffix.size())
                                              : (o.envelope.parent_path() / name).string();
      }
      if (!given && !std::filesystem::exists(path, ec)) {
        c.detail = fmt::format("{} not found (give --report FILE)", path.string());
        out.checks.push_back(std::move(c));
        continue;
      }
      // An explicit --report that cannot be read is unusable input (InputError, exit 2).
      const std::string got = rules::sha256_hex(read_input_file(path));
      c.what = fmt::format("report {}", path.string());
      c.state = got == want ? State::ok : State::failed;
      c.detail = got == want ? fmt::format("sha256 {}", short_hex(got))
                             : fmt::format("sha256 differs: signed {}, file {}", short_hex(want), short_hex(got));
    } else if (name.starts_with(kEmbeddedPrefix)) {
      c.detail = role == "schema"
                     ? fmt::format("built with this schema, sha256 {}", short_hex(want))
                     : fmt::format("built in: covered by the binary's digest, sha256 {}", short_hex(want));
    } else if (!name.starts_with("/") || !std::filesystem::is_regular_file(name, ec)) {
      c.detail = fmt::format("not on this machine ({}), sha256 {}", role, short_hex(want));
    } else {
      std::string got;
      try {
        got = file_sha256(name);
      } catch (const InputError& e) {
        c.detail = fmt::format("not readable here: {}", e.what());
        out.checks.push_back(std::move(c));
        continue;
      }
      c.state = got == want ? State::ok : State::failed;
      c.detail = got == want ? fmt::format("{} sha256 {}", role, short_hex(got))
                             : fmt::format("{} differs from the one that ran: signed {}, file {}", role, short_hex(want),
                                           short_hex(got));
    }
    out.checks.push_back(std::move(c));
  }
}

void check_nonce(const json& predicate, const VerifyOptions& o, const std::string& report_digest, VerifyOutcome& out) {
  const std::string challenge_hex = text_field(predicate, "challenge");
  const auto challenge = hex_decode(challenge_hex);
  if (o.challenge_hex) {
    const bool same = challenge && *o.challenge_hex == challenge_hex;
    out.checks.push_back({same ? State::ok : State::failed, "challenge",
                          same ? fmt::format("the statement answers challenge {}", short_hex(challenge_hex))
                               : fmt::format("the statement answers challenge '{}', not {}", short_hex(challenge_hex),
                                             short_hex(*o.challenge_hex))});
  }
  if (!challenge || report_digest.empty()) {
    out.checks.push_back({State::failed, "attestation nonce", "the statement lacks a hex challenge or a report subject"});
    return;
  }
  const std::string nonce = attestation_nonce(*challenge, report_digest);
  std::string recorded;
  if (predicate.contains("attestation_nonce") && predicate["attestation_nonce"].is_object()) {
    recorded = text_field(predicate["attestation_nonce"], "sha256");
  }
  if (recorded != hex_encode(nonce)) {
    out.checks.push_back({State::failed, "attestation nonce", "the recorded nonce is not derived from this challenge and report"});
    return;
  }
  int attested = 0;
  if (predicate.contains("devices") && predicate["devices"].is_array()) {
    for (const auto& d : predicate["devices"]) {
      if (!d.is_object() || !d.contains("attestation") || !d["attestation"].is_object()) continue;
      const auto& a = d["attestation"];
      if (!flag_field(a, "available")) continue;
      ++attested;
      const std::string id = text_field(d, "id", "?");
      if (text_field(a, "nonce") != hex_encode(nonce)) {
        out.checks.push_back({State::failed, fmt::format("attestation {}", id),
                              "the device attested another nonce than this run's"});
      } else {
        out.checks.push_back({State::not_checked, fmt::format("attestation {}", id),
                              "bound to this run's nonce; the device's report and certificates are recorded for the "
                              "vendor's verifier (e.g. nvattest), not checked here"});
      }
    }
  }
  out.checks.push_back({State::ok, "attestation nonce",
                        fmt::format("derived from the challenge and the report digest{}",
                                    attested ? fmt::format(" ({} device(s) attested)", attested) : "")});
}

}  // namespace

bool VerifyOutcome::holds() const noexcept {
  for (const auto& c : checks) {
    if (c.state == State::failed) return false;
  }
  return true;
}

std::vector<std::string> VerifyOutcome::failed() const {
  std::vector<std::string> out;
  for (const auto& c : checks) {
    if (c.state == State::failed) out.push_back(c.what);
  }
  return out;
}

std::filesystem::path envelope_path_for(const std::filesystem::path& report) {
  return report.string() + std::string(kEnvelopeSuffix);
}

VerifyOutcome verify(const VerifyOptions& o) {
  require_signing();
  const std::string text = read_input_file(o.envelope);
  const Envelope env = envelope_from_json_text(text, o.envelope.string());
  std::optional<PublicKey> key;
  if (o.key) key = read_public_key(*o.key);

  VerifyOutcome out;
  const bool type_ok = env.payload_type == kInTotoPayloadType;
  out.checks.push_back({type_ok ? State::ok : State::failed, "payload type",
                        type_ok ? env.payload_type : fmt::format("'{}', not {}", env.payload_type, kInTotoPayloadType)});
  const auto payload = base64_decode(env.payload_base64);
  if (!payload) out.checks.push_back({State::failed, "payload", "not valid base64"});

  // The key: the one given, else the one the statement names (integrity only: anyone can sign with their own).
  ParsedStatement st;
  if (payload) st = parse_statement(*payload);
  if (!key) {
    out.checks.push_back({State::failed, "key",
                          "not checked: give --key NAME.pub (the public key of the signer you trust); without it "
                          "a signature proves nothing about who signed"});
  }
  if (key && payload) {
    bool any = false;
    for (const auto& s : env.signatures) {
      if (s.keyid != key->keyid()) continue;
      any = true;
      const auto sig = base64_decode(s.sig_base64);
      const bool ok = sig && verify_signature(*key, pae(env.payload_type, *payload), *sig);
      out.checks.push_back({ok ? State::ok : State::failed, "signature",
                            ok ? fmt::format("Ed25519 by key {} ({})", short_hex(key->keyid()), o.key->string())
                               : fmt::format("does not verify under key {} ({})", short_hex(key->keyid()), o.key->string())});
    }
    if (!any) {
      std::string ids;
      for (const auto& s : env.signatures) ids += (ids.empty() ? "" : ", ") + short_hex(s.keyid);
      out.checks.push_back({State::failed, "signature",
                            fmt::format("no signature by key {} ({}); signed by: {}", short_hex(key->keyid()),
                                        o.key->string(), ids)});
    }
  }
  if (!payload) return out;
  if (!st.error.empty()) {
    out.checks.push_back({State::failed, "statement", st.error});
    return out;
  }
  out.checks.push_back({State::ok, "statement", fmt::format("in-toto Statement v1, predicate {}", kPredicateType)});
  if (key) {
    const json& signer = st.doc["predicate"].contains("signer") ? st.doc["predicate"]["signer"] : json::object();
    const bool same = signer.is_object() && text_field(signer, "keyid") == key->keyid();
    out.checks.push_back({same ? State::ok : State::failed, "signer",
                          same ? "the statement names the same key" : "the statement names another signer key"});
  }
  std::string report_digest;
  check_subjects(st.doc, o, out, report_digest);
  check_nonce(st.doc["predicate"], o, report_digest, out);
  return out;
}

}  // namespace probe::evidence
