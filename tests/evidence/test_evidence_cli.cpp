// What a new user does: probe keygen, probe --sign, probe verify, flip a byte, see verify fail; and every way the
// input can be unusable (exit 2, the file named, nothing half-written).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_probe.hpp"
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using probe_test::Result;
using probe_test::slurp;

fs::path work_dir() { return probe_test::work_dir("evidence_cli"); }
void write(const fs::path& p, const std::string& s) { probe_test::write_text(p, s); }
Result run(const std::string& command) { return probe_test::run_command(command, work_dir()); }
Result probe(const std::string& args) { return run(std::string(PROBE_EXE) + " " + args); }

// A fresh folder with a key pair in it.
fs::path keyed(const std::string& name) {
  const fs::path d = work_dir() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  const Result r = probe("keygen --out " + (d / "lab").string());
  EXPECT_EQ(r.status, 0) << r.err;
  return d;
}

// The statement validates against data/schema/statement.schema.json (python3-jsonschema, as for reports).
int validate_statement(const fs::path& envelope) {
  const fs::path out = envelope.string() + ".statement.json";
  const std::string py = "import base64,json; open('" + out.string() + "','wb').write(base64.b64decode(json.load(open('" +
                         envelope.string() + "'))['payload']))";
  if (run("python3 -c \"" + py + "\"").status != 0) return -1;
  return run(std::string(PROBE_PYTHON3) + " " + PROBE_VALIDATOR + " " + PROBE_STATEMENT_SCHEMA + " " + out.string()).status;
}

json statement_of(const fs::path& envelope) {
  const json env = json::parse(slurp(envelope));
  // base64 by hand would be a second decoder to trust: python's is the independent one.
  const Result r = run("python3 -c \"import base64,json,sys; sys.stdout.write(base64.b64decode(json.load(open('" +
                       envelope.string() + "'))['payload']).decode())\"");
  EXPECT_EQ(r.status, 0) << r.err;
  return json::parse(r.out);
}

void expect_one_line_naming(const Result& r, const std::string& what) {
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

constexpr const char* kQuick = "--no-plugins --quick --kernels fma.fp64 --no-progress";

}  // namespace

TEST(EvidenceCli, SignVerifyFlipAByteAndVerifyFails) {
  const fs::path d = keyed("walkthrough");
  struct stat st {};
  ASSERT_EQ(::stat((d / "lab.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const fs::path report = d / "r.json", envelope = d / "r.json.intoto.json";
  Result r = probe(std::string(kQuick) + " --json " + report.string() + " --sign " + (d / "lab.key").string() +
                   " --challenge 5eed0001");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Signed statement: " + envelope.string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cpu0: attestation: not available (the cpu backend offers no device attestation)"),
            std::string::npos) << r.out;

  const std::string key = " --key " + (d / "lab.pub").string();
  r = probe("verify " + envelope.string() + key + " --challenge 5eed0001");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok          signature: Ed25519"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verified: every check made holds"), std::string::npos) << r.out;

  // The statement: subjects (report, binary, data), predicate type and fields.
  const json s = statement_of(envelope);
  EXPECT_EQ(s["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ(s["subject"][0]["name"], "r.json");
  EXPECT_EQ(s["subject"][1]["annotations"]["role"], "binary");
  std::vector<std::string> roles;
  for (const auto& sub : s["subject"]) roles.push_back(sub["annotations"]["role"]);
  for (const char* role : {"report", "binary", "chip-database", "rules", "cpu-uarch", "schema"}) {
    EXPECT_NE(std::find(roles.begin(), roles.end(), role), roles.end()) << role;
  }
  for (const char* f : {"run_id", "challenge", "host", "devices", "build", "started_at", "finished_at", "attestation_nonce"}) {
    EXPECT_TRUE(s["predicate"].contains(f)) << f;
  }
  EXPECT_EQ(s["predicate"]["challenge"], "5eed0001");
  // The report names its run with the id the statement signs.
  const json rep = json::parse(slurp(report));
  ASSERT_TRUE(rep["run_id"].is_string());
  EXPECT_EQ(rep["run_id"], s["predicate"]["run_id"]);
  EXPECT_EQ(rep["run_id"].get<std::string>().size(), 36u);
  EXPECT_TRUE(s["predicate"]["host"].contains("machine_id"));
  EXPECT_EQ(validate_statement(envelope), 0);

  // replay finds the statement and checks the report's digest against it (text out, JSON to a file: one run, as
  // each probe start is slow under the sanitizers).
  const fs::path replay_json = d / "replay.json";
  r = probe("replay " + report.string() + " --out " + replay_json.string());
  EXPECT_NE(r.out.find("signature: the report matches the digest signed in " + envelope.string()), std::string::npos)
      << r.out << r.err;
  std::string binary_digest;
  for (const auto& sub : s["subject"]) {
    if (sub["annotations"]["role"] == "binary") binary_digest = sub["digest"]["sha256"];
  }
  ASSERT_EQ(binary_digest.size(), 64u);
  EXPECT_NE(r.out.find("measured by the probe binary of sha256 " + binary_digest), std::string::npos) << r.out;
  const json replayed = json::parse(slurp(replay_json));
  EXPECT_TRUE(replayed["replay"]["signature"]["checked"].get<bool>());
  EXPECT_TRUE(replayed["replay"]["signature"]["held"].get<bool>());
  EXPECT_EQ(replayed["replay"]["signature"]["run_binary_sha256"], binary_digest);

  // One byte of the report flipped: verify fails naming the report.
  const std::string original = slurp(report);
  std::string flipped = original;
  flipped[original.size() / 2] = static_cast<char>(flipped[original.size() / 2] ^ 0x01);
  write(report, flipped);
  r = probe("verify " + envelope.string() + key);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("NOT verified: report " + report.string()), std::string::npos) << r.out;
  write(report, original + " ");  // still a readable report, but not the one signed
  r = probe("replay " + report.string());
  EXPECT_NE(r.out.find("signature: FAILED: the report differs from the one signed in"), std::string::npos) << r.out << r.err;
  write(report, original);

  // One byte of the envelope's payload flipped: the signature fails.
  const std::string env = slurp(envelope);
  std::string bad = env;
  const std::size_t at = env.find("\"payload\": \"") + 40;
  bad[at] = bad[at] == 'A' ? 'B' : 'A';
  write(d / "bad.intoto.json", bad);
  r = probe("verify " + (d / "bad.intoto.json").string() + key + " --report " + report.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("FAILED      signature"), std::string::npos) << r.out;

  // Another key: fails naming the signature.
  const fs::path other = keyed("walkthrough_other");
  r = probe("verify " + envelope.string() + " --key " + (other / "lab.pub").string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("NOT verified: signature"), std::string::npos) << r.out;

  // No key: the key is not checked, which is not a pass.
  r = probe("verify " + envelope.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("FAILED      key"), std::string::npos) << r.out;

  // Truncated, not JSON, missing: exit 2, one line naming the file.
  write(d / "cut.intoto.json", env.substr(0, env.size() / 2));
  expect_one_line_naming(probe("verify " + (d / "cut.intoto.json").string() + key), "cut.intoto.json");
  write(d / "text.intoto.json", "hello\n");
  expect_one_line_naming(probe("verify " + (d / "text.intoto.json").string() + key), "text.intoto.json");
  expect_one_line_naming(probe("verify " + (d / "none.intoto.json").string() + key), "none.intoto.json");
  expect_one_line_naming(probe("verify " + envelope.string() + " --key " + report.string()), report.string());
}

TEST(EvidenceCli, HelpListsTheSigningCommandsAndFlags) {
  const Result r = probe("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"keygen", "verify", "--sign", "--challenge"}) EXPECT_NE(r.out.find(s), std::string::npos) << s;
  for (const char* sub : {"keygen", "verify"}) {
    const Result h = probe(std::string(sub) + " --help");
    EXPECT_EQ(h.status, 0) << sub;
    EXPECT_NE(h.out.find(std::string(sub) == "keygen" ? "--out" : "--key"), std::string::npos) << h.out;
  }
}

TEST(EvidenceCli, OpensslVerifiesTheSignatureIndependently) {
  if (run("command -v openssl >/dev/null").status != 0) GTEST_SKIP() << "no openssl";
  const fs::path d = keyed("openssl");
  ASSERT_EQ(probe(std::string(kQuick) + " --json " + (d / "r.json").string() + " --sign " + (d / "lab.key").string()).status, 0);
  // PAE and the raw signature, written by python (not by probe), checked by OpenSSL's Ed25519 with our PEM key.
  const std::string py =
      "import base64,json; e=json.load(open('" + (d / "r.json.intoto.json").string() + "')); p=base64.b64decode(e['payload']); "
      "t=e['payloadType'].encode(); open('" + (d / "pae.bin").string() + "','wb').write(b'DSSEv1 %d %s %d %s' % (len(t), t, len(p), p)); "
      "open('" + (d / "sig.bin").string() + "','wb').write(base64.b64decode(e['signatures'][0]['sig']))";
  ASSERT_EQ(run("python3 -c \"" + py + "\"").status, 0);
  const Result r = run("openssl pkeyutl -verify -pubin -inkey " + (d / "lab.pub").string() + " -rawin -in " +
                       (d / "pae.bin").string() + " -sigfile " + (d / "sig.bin").string());
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Signature Verified Successfully"), std::string::npos) << r.out;
  // And OpenSSL reads the private key file as an Ed25519 key.
  EXPECT_EQ(run("openssl pkey -in " + (d / "lab.key").string() + " -noout").status, 0);
}

TEST(EvidenceCli, PluginAttestationTravelsFromTheWorkerIntoTheStatement) {
  const fs::path d = keyed("plugin");
  const fs::path report = d / "r.json", envelope = d / "r.json.intoto.json";
  // Measured (a fresh worker attests after measuring) and listed (the enumeration worker attests).
  for (const char* mode : {"--quick --device 'fake*' --kernels fma.fp32", "--list"}) {
    fs::remove(report);
    const Result r = probe(std::string("--no-progress --plugin-dir ") + PROBE_GOOD_PLUGINS + " " + mode + " --json " +
                           report.string() + " --sign " + (d / "lab.key").string() + " --challenge 0a0b");
    ASSERT_TRUE(r.status == 0 || r.status == 1) << mode << ": " << r.err;  // fake1's measure() throws: exit 1
    const json s = statement_of(envelope);
    const std::string nonce = s["predicate"]["attestation_nonce"]["sha256"];
    bool fake0 = false, fake1 = false, plugin = false;
    for (const auto& dev : s["predicate"]["devices"]) {
      if (dev["id"] == "fake0") {
        fake0 = true;
        EXPECT_TRUE(dev["attestation"]["available"].get<bool>()) << mode << dev.dump();
        EXPECT_EQ(dev["attestation"]["nonce"], nonce) << mode;
      }
      if (dev["id"] == "fake1") {
        fake1 = true;
        EXPECT_EQ(dev["attestation"]["reason"], "the fake backend offers no device attestation") << mode;
      }
    }
    for (const auto& sub : s["subject"]) plugin |= sub["annotations"]["role"] == "plugin";
    EXPECT_TRUE(fake0 && fake1 && plugin) << mode << s.dump(1);
    EXPECT_EQ(validate_statement(envelope), 0) << mode;
    const Result v = probe("verify " + envelope.string() + " --key " + (d / "lab.pub").string());
    EXPECT_EQ(v.status, 0) << mode << v.out;
    EXPECT_NE(v.out.find("attestation fake0: bound to this run's nonce"), std::string::npos) << v.out;
  }
}

struct BadSign {
  const char* args;  // after the key folder is made; KEY is replaced by the key's path, DIR by the folder
  const char* message;
};

TEST(EvidenceCli, BadSigningInputIsRefusedBeforeMeasuringAndNothingIsWritten) {
  const fs::path d = keyed("bad");
  const std::string key = (d / "lab.key").string(), report = (d / "r.json").string();
  write(d / "junk.key", "not a key\n");
  const BadSign cases[] = {
      {"--sign KEY", "--sign: needs --json FILE"},
      {"--json DIR/r.json --sign DIR/missing.key", "missing.key"},
      {"--json DIR/r.json --sign DIR/junk.key", "junk.key: not an Ed25519 private key"},
      {"--json DIR/r.json --sign DIR/lab.pub", "lab.pub: not an Ed25519 private key"},
      {"--json DIR/r.json --sign KEY --challenge xyz", "--challenge: 'xyz' is not hex"},
      {"--json DIR/r.json --sign KEY --challenge abc", "--challenge: 'abc' is not hex"},
      {"--json DIR/r.json --challenge 00", "--challenge: only with --sign"},
      {"rules --sign KEY", "--sign do not apply"},
      {"keygen --out DIR/k", "keygen measures nothing"},
  };
  for (const auto& c : cases) {
    std::string args = c.args;
    for (std::size_t p; (p = args.find("KEY")) != std::string::npos;) args.replace(p, 3, key);
    for (std::size_t p; (p = args.find("DIR")) != std::string::npos;) args.replace(p, 3, d.string());
    const Result r = probe(std::string(kQuick) + " " + args);
    expect_one_line_naming(r, c.message);
    EXPECT_FALSE(fs::exists(report)) << args;
    EXPECT_FALSE(fs::exists(report + ".intoto.json")) << args;
    EXPECT_TRUE(r.out.empty()) << args << r.out;
  }
  // keygen: an existing key is never overwritten; a folder that does not exist leaves nothing.
  const std::string before = slurp(d / "lab.key");
  expect_one_line_naming(probe("keygen --out " + (d / "lab").string()), "lab.key: exists already");
  EXPECT_EQ(slurp(d / "lab.key"), before);
  expect_one_line_naming(probe("keygen --out " + (d / "no/such/k").string()), "no/such/k.key");
  EXPECT_FALSE(fs::exists(d / "no"));
}
