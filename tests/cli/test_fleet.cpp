// probe merge end to end: a folder of synthetic 8-GPU node reports (bench/fleet/make_node_reports.py, from
// templates this probe writes) folded into one fleet report; bad input, duplicates, signatures, outliers, totals.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_probe.hpp"
#include <regex>
#include <set>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using probe_test::Result;
using probe_test::slurp;

fs::path work_dir() { return probe_test::work_dir("fleet"); }
void write(const fs::path& p, const std::string& s) { probe_test::write_text(p, s); }
Result run(const std::string& cmdline) { return probe_test::run_command(cmdline, work_dir()); }
Result probe(const std::string& args) { return run(std::string(PROBE_EXE) + " " + args); }

int validate(const fs::path& file) {
  const std::string cmd =
      std::string(PROBE_PYTHON3) + " " + PROBE_VALIDATOR + " " + PROBE_FLEET_SCHEMA + " " + file.string();
  return std::system(cmd.c_str());
}

// The GPU node's recorded topology under another host name: a distinct node for the fleet.
fs::path topology_for(const std::string& host) {
  const fs::path p = work_dir() / (host + ".xml");
  write(p, std::regex_replace(slurp(PROBE_GPU_NODE_XML), std::regex("fixture-node"), host));
  return p;
}

// A fresh folder of `nodes` synthetic node reports.
fs::path make_fleet(const std::string& name, int nodes, const std::string& extra = "") {
  const fs::path dir = work_dir() / name;
  fs::remove_all(dir);
  const std::string cmd = std::string(PROBE_PYTHON3) + " " + PROBE_NODE_GENERATOR + " " +
                          (work_dir() / "node_template.json").string() + " " +
                          (work_dir() / "measured_template.json").string() + " " + dir.string() +
                          " --nodes " + std::to_string(nodes) + " --slow 0 " + extra + " >/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return dir;
}

json read_json(const fs::path& p) { return json::parse(slurp(p)); }

class Fleet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The templates the generator copies: a GPU node's topology (nothing measured) and one measured kernel.
    Result r = probe("--topology " + std::string(PROBE_GPU_NODE_XML) + " --no-plugins --no-progress --json " +
                     (work_dir() / "node_template.json").string());
    ASSERT_EQ(r.status, 0) << r.err;
    r = probe("--quick --no-plugins --no-progress --kernels fma.fp32 --json " + (work_dir() / "measured_template.json").string());
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static void TearDownTestSuite() { fs::remove_all(work_dir()); }
};

const json* find_model(const json& fleet, const std::string& model) {
  for (const auto& m : fleet["models"]) {
    if (m["model"] == model) return &m;
  }
  return nullptr;
}

TEST_F(Fleet, MergesAFolderIntoOneReportWithTotalsAndModels) {
  const fs::path dir = make_fleet("six", 6);
  const fs::path out = work_dir() / "six_fleet.json", html = work_dir() / "six_fleet.html", md = work_dir() / "six_fleet.md";
  const Result r = probe("merge " + dir.string() + " --out " + out.string() + " --out " + html.string() + " --out " + md.string());
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_EQ(validate(out), 0);
  const json f = read_json(out);
  EXPECT_EQ(f["nodes"]["found"], 6);
  EXPECT_EQ(f["nodes"]["measured"], 6);
  EXPECT_EQ(f["nodes"]["failed"], 0);
  const json* h100 = find_model(f, "H100 SXM");
  ASSERT_NE(h100, nullptr) << f["models"].dump();
  EXPECT_EQ((*h100)["devices"], 48);
  // 48 H100 SXM on the declared basis are 48 H100-equivalents by definition.
  bool declared = false;
  for (const auto& t : f["totals"]["tpp"]) {
    if (t["basis"] != "declared") continue;
    declared = true;
    EXPECT_NEAR(t["h100_equivalents"].get<double>(), 48.0, 1e-6);
  }
  EXPECT_TRUE(declared) << f["totals"].dump();
  // Every H100 is classified; the node verdicts are counted per node.
  std::size_t classified = 0;
  for (const auto& c : f["totals"]["device_classifications"]) {
    if (c["classification"].get<std::string>().find("3A090.a") != std::string::npos) classified += c["devices"].get<std::size_t>();
  }
  EXPECT_GE(classified, 48u);
  EXPECT_FALSE(f["totals"]["node_classifications"].empty());
  // The figures' distribution per model.
  bool bf16 = false;
  for (const auto& fig : (*h100)["figures"]) {
    if (fig["name"] != "mma.bf16") continue;
    bf16 = true;
    EXPECT_EQ(fig["devices"], 48);
    EXPECT_LE(fig["min"].get<double>(), fig["median"].get<double>());
    EXPECT_LE(fig["median"].get<double>(), fig["max"].get<double>());
  }
  EXPECT_TRUE(bf16);
  // node00000 has another driver than the rest: version drift.
  bool driver_drift = false;
  for (const auto& d : f["drift"]) driver_drift |= d["kind"] == "driver";
  EXPECT_TRUE(driver_drift) << f["drift"].dump();
  EXPECT_TRUE(f["flags"].empty()) << f["flags"].dump();

  const std::string h = slurp(html), m = slurp(md);
  EXPECT_NE(h.find("<svg"), std::string::npos);
  EXPECT_NE(h.find("H100 SXM (measured median, 48 devices)"), std::string::npos);
  EXPECT_NE(m.find("## Outliers"), std::string::npos);
  EXPECT_NE(m.find("H100-equivalents"), std::string::npos);
  EXPECT_LT(m.find("## Outliers"), m.find("## Models"));
  EXPECT_NE(r.out.find("6 node(s) found: 6 measured, 0 failed"), std::string::npos) << r.out;
}

TEST_F(Fleet, NamesTheOutliersBelowTheMedianAndAbovePeak) {
  const fs::path dir = make_fleet("outliers", 5);
  const fs::path node = dir / "node00002.json";
  json n = read_json(node);
  for (auto& d : n["devices"]) {
    if (d["id"] == "cuda3") {
      for (auto& m : d["measurements"]) {
        if (m["kernel"]["id"] != "mma.bf16") continue;
        for (auto& [k, v] : m["stats"].items()) {
          if (v.is_number_float() && k != "rel_spread" && k != "rel_range") v = v.get<double>() * 0.5;
          if (v.is_array()) for (auto& x : v) x = x.get<double>() * 0.5;
        }
        m["value"] = m["stats"]["median"];
      }
    }
    if (d["id"] == "cuda5") {
      auto& b = d["control"]["metrics"]["bases"];
      b["measured"]["tpp"] = b["declared"]["tpp"].get<double>() * 1.2;
    }
  }
  write(node, n.dump());
  const fs::path out = work_dir() / "outliers.json";
  const Result r = probe("merge " + dir.string() + " --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const json f = read_json(out);
  const json* h100 = find_model(f, "H100 SXM");
  ASSERT_NE(h100, nullptr);
  bool slow = false, above = false;
  for (const auto& o : (*h100)["outliers"]) {
    if (o["host"] == "node00002" && o["device"] == "cuda3" && o["figure"] == "mma.bf16") {
      slow = true;
      EXPECT_NEAR(o["below_median"].get<double>(), 0.5, 0.05);
    }
    if (o["host"] == "node00002" && o["device"] == "cuda5" &&
        o["reason"].get<std::string>().find("above its declared peak") != std::string::npos) {
      above = true;
    }
    EXPECT_EQ(o["host"], "node00002") << o.dump();
  }
  EXPECT_TRUE(slow) << (*h100)["outliers"].dump();
  EXPECT_TRUE(above) << (*h100)["outliers"].dump();
}

TEST_F(Fleet, RefusesDuplicateHostsAndSerialsNamingBothFiles) {
  const fs::path dir = make_fleet("dups", 3);
  fs::copy_file(dir / "node00001.json", dir / "renamed.json");
  const fs::path out = work_dir() / "dups.json";
  Result r = probe("merge " + dir.string() + " --out " + out.string());
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("node00001"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("renamed.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));

  // Another host name, the same GPUs: a device reported twice.
  json n = read_json(dir / "renamed.json");
  n["inventory"]["hostname"] = "impostor";
  write(dir / "renamed.json", n.dump());
  r = probe("merge " + dir.string() + " --out " + out.string());
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("serial"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("renamed.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(Fleet, BadInputIsExitTwoNamingTheFileAndWritesNothing) {
  const fs::path dir = make_fleet("bad", 2);
  const fs::path out = work_dir() / "bad.json";
  write(dir / "zz_truncated.json", "{\"schema\": \"probe-report\", ");
  Result r = probe("merge " + dir.string() + " --out " + out.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("zz_truncated.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  fs::remove(dir / "zz_truncated.json");

  json n = read_json(dir / "node00000.json");
  n["schema_version"] = 99;
  write(dir / "node00000.json", n.dump());
  r = probe("merge " + dir.string() + " --out " + out.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("node00000.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("schema version 99"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));

  r = probe("merge " + (work_dir() / "no-such-folder").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("no-such-folder"), std::string::npos) << r.err;

  write(dir / "node00000.json", R"({"schema": "probe-node-failure", "schema_version": 1, "host": ""})");
  r = probe("merge " + dir.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("field 'host'"), std::string::npos) << r.err;
}

TEST_F(Fleet, AFailedNodeIsNamedWithItsReason) {
  const fs::path dir = make_fleet("failed", 2);
  write(dir / "node-down.json",
        R"({"schema": "probe-node-failure", "schema_version": 1, "host": "node-down", "reason": "srun: node not responding", "at": "2026-11-30T04:00:00Z"})");
  const fs::path out = work_dir() / "failed.json";
  const Result r = probe("merge " + dir.string() + " --out " + out.string());
  EXPECT_EQ(r.status, 1) << r.err;
  ASSERT_EQ(validate(out), 0);
  const json f = read_json(out);
  EXPECT_EQ(f["nodes"]["found"], 3);
  EXPECT_EQ(f["nodes"]["failed"], 1);
  EXPECT_EQ(f["nodes"]["list"][0]["host"], "node-down");  // failed nodes first
  EXPECT_EQ(f["nodes"]["list"][0]["reason"], "srun: node not responding");
}

TEST_F(Fleet, MixedProbeVersionsAreFlagged) {
  const fs::path dir = make_fleet("mixed", 3);
  json n = read_json(dir / "node00001.json");
  n["tool"]["version"] = "0.0.9";
  write(dir / "node00001.json", n.dump());
  const fs::path out = work_dir() / "mixed.json";
  ASSERT_EQ(probe("merge " + dir.string() + " --out " + out.string()).status, 0);
  const json f = read_json(out);
  ASSERT_FALSE(f["flags"].empty());
  EXPECT_NE(f["flags"][0].get<std::string>().find("mixed probe versions"), std::string::npos) << f["flags"].dump();
}

TEST_F(Fleet, SignaturesAreCheckedAndTheFleetReportIsSigned) {
  const fs::path d = work_dir() / "signed";
  fs::create_directories(d);
  const std::string key = (work_dir() / "auditor").string();
  Result r = probe("keygen --out " + key);
  if (r.status != 0 && r.err.find("libsodium") != std::string::npos) GTEST_SKIP() << "this build cannot sign: " << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  for (const std::string host : {"sig-a", "sig-b"}) {
    r = probe("--topology " + topology_for(host).string() + " --no-plugins --no-progress --json " +
              (d / (host + ".json")).string() + " --sign " + key + ".key");
    ASSERT_EQ(r.status, 0) << r.err;
  }
  const fs::path out = work_dir() / "signed_fleet.json";
  r = probe("merge " + d.string() + " --key " + key + ".pub --out " + out.string() + " --sign " + key + ".key");
  ASSERT_EQ(r.status, 0) << r.err;
  json f = read_json(out);
  EXPECT_EQ(f["signatures"]["verified"], 2);
  r = probe("verify " + out.string() + ".intoto.json --key " + key + ".pub");
  EXPECT_EQ(r.status, 0) << r.out << r.err;

  // One report altered after signing, one unsigned node added: both named, exit 1.
  json b = read_json(d / "sig-b.json");
  b["command"] = "probe --report (edited)";
  write(d / "sig-b.json", b.dump(2));
  r = probe("--topology " + topology_for("plain").string() + " --no-plugins --no-progress --json " + (d / "plain.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  r = probe("merge " + d.string() + " --key " + key + ".pub --out " + out.string());
  EXPECT_EQ(r.status, 1) << r.err;
  f = read_json(out);
  EXPECT_EQ(f["signatures"]["verified"], 1);
  EXPECT_EQ(f["signatures"]["failed"], json::array({"sig-b"}));
  EXPECT_EQ(f["signatures"]["unsigned"], json::array({"plain"}));

  // Without --key nothing is judged: exit 0, the state in words.
  r = probe("merge " + d.string() + " --out " + out.string());
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace

namespace {

// A real mpirun on this machine: each rank a node of its own through a recorded topology (so the ranks do not
// fight for the same cores), one made to fail; rank 0's fleet report names all three and the failure.
std::string mpirun_prefix() {
  std::string env = ::geteuid() == 0 ? "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " : "";
  return env + PROBE_MPIRUN + " --oversubscribe";
}
std::string rank(const std::string& topology, const fs::path& fleet, const std::string& extra = "") {
  return std::string(" -n 1 ") + PROBE_EXE + " --report --no-plugins --no-progress --topology " + topology +
         " --fleet-out " + fleet.string() + extra;
}

TEST_F(Fleet, FleetOutWithoutMpiIsAUsageErrorSayingSo) {
  if (PROBE_HAVE_MPI) GTEST_SKIP() << "this probe was built with MPI: the refusal is for builds without it";
  const fs::path fleet = work_dir() / "no_mpi_fleet.json";
  const Result r = probe("--report --no-plugins --no-progress --quick --fleet-out " + fleet.string());
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--fleet-out: this probe was built without MPI"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(fleet));
}

TEST_F(Fleet, MpirunGathersEveryRanksNodeAndNamesTheFailedOne) {
  if (!PROBE_HAVE_MPI) GTEST_SKIP() << "this probe was built without MPI (PROBE_ENABLE_MPI; Debian libopenmpi-dev)";
  if (std::string(PROBE_MPIRUN).empty()) GTEST_SKIP() << "no mpirun on this machine (Debian: openmpi-bin)";
  const fs::path fleet = work_dir() / "mpi_fleet.json";
  // Signed like the Slurm recipe's fleet report, where this build can sign.
  const std::string key = (work_dir() / "mpi").string();
  const bool can_sign = probe("keygen --out " + key).status == 0;
  const std::string sign = can_sign ? " --sign " + key + ".key" : "";
  const Result r = run(mpirun_prefix() + rank(topology_for("mpi-a").string(), fleet, sign) + " :" +
                       rank(topology_for("mpi-b").string(), fleet, sign) + " :" +
                       rank(topology_for("mpi-c").string(), fleet, sign + " --cpu-description /nonexistent/cpu.json"));
  ASSERT_TRUE(fs::exists(fleet)) << r.status << "\n" << r.out << "\n" << r.err;
  EXPECT_EQ(r.status, 1) << r.err;  // a node failed
  EXPECT_EQ(validate(fleet), 0);
  const json f = read_json(fleet);
  EXPECT_EQ(f["nodes"]["found"], 3);
  EXPECT_EQ(f["nodes"]["failed"], 1);
  std::set<std::string> hosts;
  for (const auto& n : f["nodes"]["list"]) hosts.insert(n["host"].get<std::string>());
  EXPECT_EQ(hosts, (std::set<std::string>{"mpi-a", "mpi-b", "mpi-c"}));
  const json& failed = f["nodes"]["list"][0];
  EXPECT_EQ(failed["host"], "mpi-c");
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_NE(failed["reason"].get<std::string>().find("rank 2"), std::string::npos) << failed.dump();
  EXPECT_NE(failed["reason"].get<std::string>().find("/nonexistent/cpu.json"), std::string::npos) << failed.dump();
  // The measured ranks' H100s (assessed from the chip database) are in the totals.
  const json* h100 = find_model(f, "H100 SXM");
  ASSERT_NE(h100, nullptr) << f["models"].dump();
  std::size_t per_node = 0;  // the H100s of the recorded topology, assessed from the chip database
  const json node_template = read_json(work_dir() / "node_template.json");
  for (const auto& u : node_template["unmeasured"]) {
    per_node += u["control"].is_object() && u["control"]["metrics"]["chip"].is_object() &&
                u["control"]["metrics"]["chip"]["name"] == "H100 SXM";
  }
  EXPECT_EQ((*h100)["devices"], 2 * per_node);
  if (can_sign) {
    const Result v = probe("verify " + fleet.string() + ".intoto.json --key " + key + ".pub");
    EXPECT_EQ(v.status, 0) << v.out << v.err;
  }
}

TEST_F(Fleet, MpirunRanksOnOneNodeMeasureItOnce) {
  if (!PROBE_HAVE_MPI) GTEST_SKIP() << "this probe was built without MPI (PROBE_ENABLE_MPI; Debian libopenmpi-dev)";
  if (std::string(PROBE_MPIRUN).empty()) GTEST_SKIP() << "no mpirun on this machine (Debian: openmpi-bin)";
  const fs::path fleet = work_dir() / "mpi_same.json";
  const std::string topo = topology_for("mpi-same").string();
  const Result r = run(mpirun_prefix() + rank(topo, fleet) + " :" + rank(topo, fleet));
  ASSERT_EQ(r.status, 0) << r.out << "\n" << r.err;
  const json f = read_json(fleet);
  EXPECT_EQ(f["nodes"]["found"], 1);
  EXPECT_NE(r.err.find("rank 1 runs on node mpi-same with rank 0: it stands down"), std::string::npos) << r.err;
}

}  // namespace
