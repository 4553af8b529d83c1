// libFuzzer harness: a DSSE envelope as probe verify, replay and compare read it (envelope_from_json_text), its
// base64 payload and signatures decoded as the verifier decodes them. What it accepts must write back to an
// envelope that reads the same (abort otherwise), and the base64 it decodes must encode back to the same bytes.
// InputError on the fuzzed input is the expected rejection; any other exception is a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base64.hpp"
#include "dsse.hpp"
#include "probe/error.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_envelope: %s\n", what);
  std::abort();
}

void check_base64(std::string_view text) {
  const auto bytes = probe::evidence::base64_decode(text);
  if (!bytes) return;
  const auto again = probe::evidence::base64_decode(probe::evidence::base64_encode(*bytes));
  if (!again || *again != *bytes) fail("base64 decode/encode/decode changed the bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  probe::evidence::Envelope e;
  try {
    e = probe::evidence::envelope_from_json_text(text, "fuzz.intoto.json");
  } catch (const probe::InputError&) {
    return 0;
  }
  check_base64(e.payload_base64);
  for (const auto& s : e.signatures) check_base64(s.sig_base64);
  (void)probe::evidence::pae(e.payload_type, e.payload_base64);
  probe::evidence::Envelope back;
  try {
    back = probe::evidence::envelope_from_json_text(probe::evidence::to_json_text(e), "fuzz_written.intoto.json");
  } catch (const probe::InputError& err) {
    std::fprintf(stderr, "an envelope probe wrote was refused: %s\n", err.what());
    std::abort();
  }
  if (back.payload_type != e.payload_type || back.payload_base64 != e.payload_base64 ||
      back.signatures.size() != e.signatures.size()) {
    fail("an envelope read back differs from the one written");
  }
  return 0;
}
