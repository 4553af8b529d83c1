// The evidence library in process: base64 and PAE against known answers, key files, and a signed statement that
// fails verification for every single flipped byte of the report or of the envelope.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "base64.hpp"
#include "dsse.hpp"
#include "keys.hpp"
#include "probe/error.hpp"
#include "rules.hpp"
#include "statement.hpp"
#include "verify.hpp"

namespace fs = std::filesystem;
using namespace probe::evidence;

namespace {

fs::path work_dir() {
  fs::path d = fs::temp_directory_path() / ("probe_test_evidence_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A key pair, a small report and its signed statement, as probe --sign writes them.
struct Signed {
  fs::path dir, key, pub, report, envelope;
};

Signed make_signed(const std::string& name, const std::string& challenge_hex = "c0ffee") {
  Signed s;
  s.dir = work_dir() / name;
  fs::remove_all(s.dir);
  fs::create_directories(s.dir);
  generate_key_files(s.dir / "lab");
  s.key = s.dir / "lab.key";
  s.pub = s.dir / "lab.pub";
  s.report = s.dir / "r.json";
  s.envelope = envelope_path_for(s.report);
  const std::string report = R"({"schema_version": 1, "devices": [{"id": "gpu0", "value": 989.4}]})" "\n";
  write(s.report, report);
  const SecretKey key = read_secret_key(s.key);
  RunEvidence ev;
  ev.run_id = new_run_id();
  ev.challenge_hex = challenge_hex;
  ev.signer_keyid = key.public_key().keyid();
  ev.subjects.push_back({"r.json", "report", probe::rules::sha256_hex(report)});
  DeviceEvidence d;
  d.info.id = "gpu0";
  d.attestation.available = true;
  d.attestation.source = "test";
  d.attestation.nonce = attestation_nonce(*hex_decode(challenge_hex), probe::rules::sha256_hex(report));
  d.attestation.report = "R";
  ev.devices.push_back(d);
  const std::string payload = statement_json(ev).dump(2);
  Envelope env{std::string(kInTotoPayloadType), base64_encode(payload), {}};
  env.signatures.push_back({ev.signer_keyid, base64_encode(key.sign(pae(env.payload_type, payload)))});
  write(s.envelope, to_json_text(env));
  return s;
}

VerifyOutcome check(const Signed& /*s*/, const fs::path& envelope, const fs::path& report, const fs::path& key) {
  VerifyOptions o;
  o.envelope = envelope;
  o.report = report;
  o.key = key;
  return verify(o);
}

}  // namespace

TEST(Base64, KnownAnswersAndStrictness) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  for (const char* bad : {"Zg=", "Zh==", "Zm9=", "Z===", "Zg==Zg==", "Zm 9", "Zm9v\n", "-_8="}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;  // "Zh==" and "Zm9=" have non-zero unused bits
  }
  EXPECT_EQ(hex_decode("00ff"), std::string("\x00\xff", 2));
  EXPECT_FALSE(hex_decode("0g"));
  EXPECT_FALSE(hex_decode("abc"));
}

TEST(Dsse, PaeMatchesTheSpecificationExample) {
  // github.com/secure-systems-lab/dsse protocol.md
  EXPECT_EQ(pae("http://example.com/HelloWorld", "hello world"), "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

TEST(Keys, KeygenWritesModes0600And0644AndNeverOverwrites) {
  const fs::path d = work_dir() / "keygen";
  fs::remove_all(d);
  fs::create_directories(d);
  const std::string id = generate_key_files(d / "k");
  struct stat st {};
  ASSERT_EQ(::stat((d / "k.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(read_public_key(d / "k.pub").keyid(), id);
  EXPECT_EQ(read_secret_key(d / "k.key").public_key().keyid(), id);
  const std::string before = slurp(d / "k.key");
  EXPECT_THROW(generate_key_files(d / "k"), probe::InputError);
  EXPECT_EQ(slurp(d / "k.key"), before);
  // A public key where a private one is expected, and garbage, name the file.
  try {
    static_cast<void>(read_secret_key(d / "k.pub"));
    FAIL();
  } catch (const probe::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("k.pub"), std::string::npos) << e.what();
  }
  write(d / "junk.pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
  EXPECT_THROW(static_cast<void>(read_public_key(d / "junk.pub")), probe::InputError);
}

TEST(Verify, AGoodStatementHolds) {
  const Signed s = make_signed("good");
  const VerifyOutcome o = check(s, s.envelope, s.report, s.pub);
  EXPECT_TRUE(o.holds());
  for (const auto& c : o.checks) EXPECT_NE(c.state, Check::State::failed) << c.what << ": " << c.detail;
}

TEST(Verify, EveryFlippedByteOfTheReportFails) {
  const Signed s = make_signed("flip_report");
  const std::string report = slurp(s.report);
  const fs::path flipped = s.dir / "flipped.json";
  for (std::size_t i = 0; i < report.size(); ++i) {
    std::string r = report;
    r[i] = static_cast<char>(r[i] ^ 0x01);
    write(flipped, r);
    const VerifyOutcome o = check(s, s.envelope, flipped, s.pub);
    ASSERT_FALSE(o.holds()) << "byte " << i;
    ASSERT_EQ(o.failed().size(), 1u) << "byte " << i;
    EXPECT_NE(o.failed()[0].find("report"), std::string::npos) << o.failed()[0];
  }
}

TEST(Verify, EveryFlippedByteOfTheEnvelopeFailsOrIsUnusable) {
  const Signed s = make_signed("flip_envelope");
  const std::string env = slurp(s.envelope);
  const fs::path flipped = s.dir / "flipped.intoto.json";
  int failed = 0, unusable = 0;
  for (std::size_t i = 0; i < env.size(); ++i) {
    std::string e = env;
    e[i] = static_cast<char>(e[i] ^ 0x01);
    write(flipped, e);
    try {
      ASSERT_FALSE(check(s, flipped, s.report, s.pub).holds()) << "byte " << i << " ('" << env[i] << "')";
      ++failed;
    } catch (const probe::InputError& err) {
      // Only a flip that breaks the JSON or the envelope's field names makes it unusable (exit 2).
      ASSERT_NE(std::string(err.what()).find("not a DSSE envelope"), std::string::npos) << err.what();
      ++unusable;
    }
  }
  EXPECT_GT(failed, static_cast<int>(env.size() / 2));  // the payload and signature characters: exit 1
  EXPECT_GT(unusable, 0);
}

TEST(Verify, AWrongKeyFails) {
  const Signed s = make_signed("wrong_key");
  const Signed other = make_signed("other_key");
  const VerifyOutcome o = check(s, s.envelope, s.report, other.pub);
  EXPECT_FALSE(o.holds());
  EXPECT_EQ(o.failed(), std::vector<std::string>({"signature", "signer"}));
}

TEST(Verify, ASignatureOverAnotherPayloadFails) {
  // Right key, keyid and payload type, but the statement was altered and re-encoded: the signature no longer holds.
  const Signed s = make_signed("resigned");
  auto env = nlohmann::json::parse(slurp(s.envelope));
  auto st = nlohmann::json::parse(*base64_decode(env["payload"].get<std::string>()));
  st["predicate"]["challenge"] = "c0ffef";
  env["payload"] = base64_encode(st.dump(2));
  write(s.envelope, env.dump(2));
  const VerifyOutcome o = check(s, s.envelope, s.report, s.pub);
  EXPECT_FALSE(o.holds());
  EXPECT_EQ(o.failed().front(), "signature");
}

TEST(Verify, MalformedSubjectAnnotationsAreChecksNotCrashes) {
  // An altered statement whose subject role is a number, not a string: the signature fails and the subject is
  // read as one without a role; nothing throws out of verify (it used to throw json::type_error: exit 3).
  const Signed s = make_signed("badrole");
  auto env = nlohmann::json::parse(slurp(s.envelope));
  auto st = nlohmann::json::parse(*base64_decode(env["payload"].get<std::string>()));
  st["subject"][0]["annotations"]["role"] = 5;
  env["payload"] = base64_encode(st.dump(2));
  write(s.envelope, env.dump(2));
  VerifyOutcome o;
  EXPECT_NO_THROW(o = check(s, s.envelope, s.report, s.pub));
  EXPECT_FALSE(o.holds());
  ASSERT_EQ(o.subjects.size(), 1u);
  EXPECT_EQ(o.subjects[0].role, "");
  // Fields of the wrong type anywhere the verifier reads: failed checks, no exception.
  const Signed t = make_signed("types");
  auto tenv = nlohmann::json::parse(slurp(t.envelope));
  const auto original = nlohmann::json::parse(*base64_decode(tenv["payload"].get<std::string>()));
  for (const char* field : {"challenge", "signer", "attestation_nonce", "devices", "_type"}) {
    auto st2 = original;
    if (std::string(field) == "_type") {
      st2["_type"] = 5;
    } else if (std::string(field) == "devices") {
      st2["predicate"]["devices"][0]["attestation"] = {{"available", "yes"}, {"nonce", 7}};
      st2["predicate"]["devices"][0]["id"] = 3;
    } else if (std::string(field) == "signer") {
      st2["predicate"]["signer"] = {{"keyid", 12}};
    } else {
      st2["predicate"][field] = nlohmann::json::array({1, 2});
    }
    tenv["payload"] = base64_encode(st2.dump(2));
    write(t.envelope, tenv.dump(2));
    EXPECT_NO_THROW(o = check(t, t.envelope, t.report, t.pub)) << field;
    EXPECT_FALSE(o.holds()) << field;
  }
  // The good statement lists its subjects with their roles and signed digests.
  const Signed g = make_signed("roles");
  const VerifyOutcome ok = check(g, g.envelope, g.report, g.pub);
  ASSERT_EQ(ok.subjects.size(), 1u);
  EXPECT_EQ(ok.subjects[0].role, "report");
  EXPECT_EQ(ok.subjects[0].sha256, probe::rules::sha256_hex(slurp(g.report)));
}

TEST(Verify, TheChallengeMustBeTheAuditors) {
  const Signed s = make_signed("challenge");
  VerifyOptions o{s.envelope, s.pub, s.report, std::string("c0ffee")};
  EXPECT_TRUE(verify(o).holds());
  o.challenge_hex = "deadbeef";
  EXPECT_EQ(verify(o).failed(), std::vector<std::string>({"challenge"}));
}

TEST(Verify, TruncatedOrNonJsonEnvelopesAreUnusableNamingTheFile) {
  const Signed s = make_signed("truncated");
  const std::string env = slurp(s.envelope);
  const fs::path cut = s.dir / "cut.intoto.json";
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, env.size() / 2, env.size() - 3}) {
    write(cut, env.substr(0, n));
    try {
      static_cast<void>(check(s, cut, s.report, s.pub));
      FAIL() << n;
    } catch (const probe::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("cut.intoto.json"), std::string::npos) << e.what();
    }
  }
}
