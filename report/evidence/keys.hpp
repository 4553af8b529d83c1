#pragma once
// Ed25519 keys and signatures (libsodium crypto_sign_*). Key files are PEM, the formats OpenSSL and cosign read:
//   NAME.key  PKCS#8 "PRIVATE KEY" holding the 32-byte seed (mode 0600)
//   NAME.pub  SubjectPublicKeyInfo "PUBLIC KEY" holding the 32-byte public key
// A build without libsodium (configure summary: "signing: not built") throws InputError from every function
// here that needs it, saying so: the commands exit 2 with that line.
#include <array>
#include <filesystem>
#include <string>
#include <string_view>

namespace probe::evidence {

// Whether this build can sign and verify (libsodium found at configure time).
[[nodiscard]] bool signing_available() noexcept;
// Throws InputError saying this build cannot sign or verify (and how to fix that) when it cannot.
void require_signing();

struct PublicKey {
  std::array<unsigned char, 32> bytes{};
  // The DSSE keyid: lower-case hex SHA-256 of the 32 raw public-key bytes.
  [[nodiscard]] std::string keyid() const;
};

class SecretKey {
 public:
  explicit SecretKey(const std::array<unsigned char, 32>& seed);
  ~SecretKey();  // the key bytes are wiped
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  [[nodiscard]] const PublicKey& public_key() const noexcept { return m_public; }
  // The 64-byte detached signature of `message`.
  [[nodiscard]] std::string sign(std::string_view message) const;

 private:
  std::array<unsigned char, 64> m_secret{};
  PublicKey m_public;
};

// True when `signature` (64 bytes) is `key`'s signature of `message`.
[[nodiscard]] bool verify_signature(const PublicKey& key, std::string_view message, std::string_view signature);

// Writes OUT.key (mode 0600, created exclusively) and OUT.pub for a fresh key pair; returns the key id. Throws
// InputError naming the file when either exists already or cannot be written (nothing is left behind then).
std::string generate_key_files(const std::filesystem::path& out);

// Key files as keygen writes them. Throws InputError naming the file and what is wrong with it.
[[nodiscard]] SecretKey read_secret_key(const std::filesystem::path& path);
[[nodiscard]] PublicKey read_public_key(const std::filesystem::path& path);
[[nodiscard]] std::string public_key_pem(const PublicKey& key);

}  // namespace probe::evidence
