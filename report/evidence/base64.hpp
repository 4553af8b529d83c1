#pragma once
// Base64 (RFC 4648, standard alphabet, padded), as DSSE envelopes carry payloads and signatures.
#include <optional>
#include <string>
#include <string_view>

namespace probe::evidence {

[[nodiscard]] std::string base64_encode(std::string_view bytes);
// Strict: the standard alphabet, padding to a multiple of 4, and zero unused bits, so exactly one text decodes
// to given bytes (a flipped character can never decode to the same bytes). nullopt for anything else.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

// Lower-case hex of bytes, and back (nullopt for odd length or a non-hex digit).
[[nodiscard]] std::string hex_encode(std::string_view bytes);
[[nodiscard]] std::optional<std::string> hex_decode(std::string_view text);

}  // namespace probe::evidence
