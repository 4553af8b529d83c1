#include "keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#if PROBE_HAVE_SODIUM
#include <sodium.h>
#endif

#include "base64.hpp"
#include "json_io.hpp"
#include "probe/error.hpp"
#include "probe/input_file.hpp"
#include "rules.hpp"

namespace probe::evidence {
namespace {

// DER prefixes of the two PEM bodies (RFC 8410): OID 1.3.101.112 (id-Ed25519), then the 32 key bytes.
constexpr std::string_view kSpkiPrefix{"\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00", 12};
constexpr std::string_view kPkcs8Prefix{"\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16};
constexpr std::uint64_t kMaxKeyFileBytes = 4096;

[[noreturn]] void no_sodium() {
  throw InputError("this probe was built without libsodium: signing and verifying are not available (install "
                   "libsodium-dev, e.g. scripts/install-deps.sh, and rebuild)");
}

std::string pem(std::string_view label, std::string_view der) {
  return fmt::format("-----BEGIN {0}-----\n{1}\n-----END {0}-----\n", label, base64_encode(der));
}

// The DER body of a one-block PEM file with `label`, or an InputError naming the file.
std::string read_pem(const std::filesystem::path& path, std::string_view label, std::string_view prefix,
                     std::string_view what) {
  const std::string text = read_input_file(path, kMaxKeyFileBytes);
  const std::string begin = fmt::format("-----BEGIN {}-----", label), end = fmt::format("-----END {}-----", label);
  const auto b = text.find(begin), e = text.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) {
    throw InputError(fmt::format("{}: not {} (no PEM '{}' block)", path.string(), what, label));
  }
  std::string body;
  for (std::size_t i = b + begin.size(); i < e; ++i) {
    if (text[i] != '\n' && text[i] != '\r') body.push_back(text[i]);
  }
  const auto der = base64_decode(body);
  if (!der || der->size() != prefix.size() + 32 || !der->starts_with(prefix)) {
    throw InputError(fmt::format("{}: not {} (the PEM block is not an Ed25519 key)", path.string(), what));
  }
  return der->substr(prefix.size());
}

// Used by keygen, which a build without libsodium does not have.
[[maybe_unused]] void write_new_file(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    throw InputError(errno == EEXIST ? fmt::format("{}: exists already (keygen never overwrites a key)", path.string())
                                     : fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno)));
  }
  std::size_t done = 0;
  bool ok = true;
  while (ok && done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  const int err = errno;
  ok = ::fsync(fd) == 0 && ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    throw InputError(fmt::format("{}: cannot write: {}", path.string(), std::strerror(err)));
  }
}

}  // namespace

bool signing_available() noexcept { return PROBE_HAVE_SODIUM != 0; }

void require_signing() {
  if (!signing_available()) no_sodium();
}

std::string PublicKey::keyid() const {
  return rules::sha256_hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

std::string public_key_pem(const PublicKey& key) {
  return pem("PUBLIC KEY", std::string(kSpkiPrefix) + std::string(reinterpret_cast<const char*>(key.bytes.data()), 32));
}

#if PROBE_HAVE_SODIUM

SecretKey::SecretKey(const std::array<unsigned char, 32>& seed) {
  if (sodium_init() < 0) throw SystemError("libsodium could not be initialised");
  crypto_sign_seed_keypair(m_public.bytes.data(), m_secret.data(), seed.data());
}

SecretKey::~SecretKey() { sodium_memzero(m_secret.data(), m_secret.size()); }

std::string SecretKey::sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), m_secret.data());
  return sig;
}

bool verify_signature(const PublicKey& key, std::string_view message, std::string_view signature) {
  if (sodium_init() < 0) throw SystemError("libsodium could not be initialised");
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     key.bytes.data()) == 0;
}

std::string generate_key_files(const std::filesystem::path& out) {
  if (sodium_init() < 0) throw SystemError("libsodium could not be initialised");
  const std::filesystem::path key_path = out.string() + ".key", pub_path = out.string() + ".pub";
  std::error_code ec;
  for (const auto& p : {key_path, pub_path}) {
    if (std::filesystem::exists(std::filesystem::symlink_status(p, ec))) {
      throw InputError(fmt::format("{}: exists already (keygen never overwrites a key)", p.string()));
    }
  }
  std::array<unsigned char, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  const SecretKey key(seed);
  std::string der = std::string(kPkcs8Prefix) + std::string(reinterpret_cast<const char*>(seed.data()), seed.size());
  sodium_memzero(seed.data(), seed.size());
  std::string text = pem("PRIVATE KEY", der);
  sodium_memzero(der.data(), der.size());
  write_new_file(key_path, text, 0600);
  sodium_memzero(text.data(), text.size());
  try {
    write_new_file(pub_path, public_key_pem(key.public_key()), 0644);
  } catch (...) {
    ::unlink(key_path.c_str());  // no key without its public half
    throw;
  }
  return key.public_key().keyid();
}

SecretKey read_secret_key(const std::filesystem::path& path) {
  // Wiped when this returns; the key itself is built in place (guaranteed elision: SecretKey is not copyable).
  struct WipedSeed {
    std::array<unsigned char, 32> bytes{};
    ~WipedSeed() { sodium_memzero(bytes.data(), bytes.size()); }
  } seed;
  std::string raw = read_pem(path, "PRIVATE KEY", kPkcs8Prefix, "an Ed25519 private key (probe keygen writes NAME.key)");
  std::memcpy(seed.bytes.data(), raw.data(), seed.bytes.size());
  sodium_memzero(raw.data(), raw.size());
  return SecretKey(seed.bytes);
}

#else

SecretKey::SecretKey(const std::array<unsigned char, 32>&) { no_sodium(); }
SecretKey::~SecretKey() = default;
std::string SecretKey::sign(std::string_view) const { no_sodium(); }
bool verify_signature(const PublicKey&, std::string_view, std::string_view) { no_sodium(); }
std::string generate_key_files(const std::filesystem::path&) { no_sodium(); }
SecretKey read_secret_key(const std::filesystem::path&) { no_sodium(); }

#endif

PublicKey read_public_key(const std::filesystem::path& path) {
  const std::string raw = read_pem(path, "PUBLIC KEY", kSpkiPrefix, "an Ed25519 public key (probe keygen writes NAME.pub)");
  PublicKey key;
  std::memcpy(key.bytes.data(), raw.data(), key.bytes.size());
  return key;
}

}  // namespace probe::evidence
