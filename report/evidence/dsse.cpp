#include "dsse.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "probe/error.hpp"
#include "probe/input_file.hpp"

namespace probe::evidence {

using nlohmann::json;

std::string pae(std::string_view type, std::string_view body) {
  return fmt::format("DSSEv1 {} {} {} {}", type.size(), type, body.size(), body);
}

std::string to_json_text(const Envelope& e) {
  json sigs = json::array();
  for (const auto& s : e.signatures) sigs.push_back({{"keyid", s.keyid}, {"sig", s.sig_base64}});
  const json j{{"payloadType", e.payload_type}, {"payload", e.payload_base64}, {"signatures", sigs}};
  return j.dump(2) + "\n";
}

Envelope envelope_from_json_text(std::string_view text, std::string_view source) {
  check_json_depth(text, source);
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    throw InputError(fmt::format("{}: not a DSSE envelope: not JSON (truncated or damaged?)", source));
  }
  auto field = [&](const json& o, const char* name, std::string_view where) -> std::string {
    if (!o.is_object() || !o.contains(name) || !o[name].is_string()) {
      throw InputError(fmt::format("{}: not a DSSE envelope: {}'{}' missing or not a string", source, where, name));
    }
    return o[name].get<std::string>();
  };
  Envelope e;
  e.payload_type = field(j, "payloadType", "");
  e.payload_base64 = field(j, "payload", "");
  if (!j.contains("signatures") || !j["signatures"].is_array() || j["signatures"].empty()) {
    throw InputError(fmt::format("{}: not a DSSE envelope: 'signatures' missing or empty", source));
  }
  for (const auto& s : j["signatures"]) {
    // keyid is optional in DSSE; probe writes it and the verifier compares it with the key's.
    std::string keyid;
    if (s.is_object() && s.contains("keyid")) keyid = field(s, "keyid", "signatures[].");
    e.signatures.push_back({std::move(keyid), field(s, "sig", "signatures[].")});
  }
  return e;
}

}  // namespace probe::evidence
