#pragma once
// DSSE envelopes (github.com/secure-systems-lab/dsse): the signature covers the pre-authentication encoding
// PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths in ASCII decimal, so the type is
// bound to the body and no JSON canonicalisation is needed.
#include <string>
#include <string_view>
#include <vector>

namespace probe::evidence {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

[[nodiscard]] std::string pae(std::string_view type, std::string_view body);

struct DsseSignature {
  std::string keyid;
  std::string sig_base64;
};

struct Envelope {
  std::string payload_type;
  std::string payload_base64;
  std::vector<DsseSignature> signatures;
};

// The envelope as a JSON document (two-space indent, a final newline).
[[nodiscard]] std::string to_json_text(const Envelope& e);
// Throws InputError "SOURCE: …" when the text is not JSON or lacks the envelope's fields (payloadType, payload,
// signatures[{keyid, sig}] as strings): input a verifier cannot use. The base64 is checked by the verifier.
[[nodiscard]] Envelope envelope_from_json_text(std::string_view text, std::string_view source);

}  // namespace probe::evidence
