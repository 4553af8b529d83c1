// mpirun -n N probe --report --fleet-out fleet.json: one rank per node measures its node, rank 0 gathers the
// node reports and writes the fleet report through the same merge as probe merge (merge.cpp).
//
// Order (nvbandwidth's multinode JSON was broken until 2026 because rank 0 wrote device info it never received):
//   1. every rank states its node identity (the recorded topology's host name, else this host's name);
//   2. rank 0 decides who measures: the first rank of each identity; the others on the same node stand down
//      (several ranks on one host would fight for its cores and GPUs) and are named in the fleet report's log;
//   3. the measuring ranks run the ordinary report, its JSON kept in memory; a rank whose run fails sends a
//      probe-node-failure document instead, so the others still land;
//   4. rank 0 receives each rank's size, then its text, one rank at a time, and folds it in (streaming).
#include <unistd.h>

#include <climits>
#include <memory>
#include <fmt/format.h>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "merge.hpp"
#include "options.hpp"
#include "probe/engine.hpp"
#include "probe/error.hpp"
#include "probe/inventory.hpp"

#if PROBE_HAVE_MPI
#include <mpi.h>
#endif

namespace probe::cli {

#if !PROBE_HAVE_MPI

int run_fleet_mpi(const Options&, const std::string&, const char*) {
  throw InputError("--fleet-out: this probe was built without MPI (configure with PROBE_ENABLE_MPI=ON; Debian: "
                   "libopenmpi-dev); use one probe --report --json per node and probe merge instead");
}

#else

namespace {

// MPI_Init/MPI_Finalize around the fleet run; errors come back as codes (MPI_ERRORS_RETURN), never an abort.
class MpiSession {
 public:
  MpiSession() {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) {
      throw Error("MPI_Init failed (is this run under mpirun or srun --mpi?)");
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &m_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m_size);
  }
  ~MpiSession() { MPI_Finalize(); }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  [[nodiscard]] int rank() const noexcept { return m_rank; }
  [[nodiscard]] int size() const noexcept { return m_size; }

 private:
  int m_rank = 0, m_size = 1;
};

void check(int rc, std::string_view what) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw Error(fmt::format("MPI {} failed: {}", what, std::string(text, static_cast<std::size_t>(len))));
  }
}

constexpr int kTagSize = 1, kTagText = 2;
constexpr std::size_t kChunk = 1 << 30;  // MPI counts are int: large texts go in pieces

void send_text(const std::string& text, int to) {
  unsigned long long size = text.size();
  check(MPI_Send(&size, 1, MPI_UNSIGNED_LONG_LONG, to, kTagSize, MPI_COMM_WORLD), "send (size)");
  for (std::size_t off = 0; off < text.size(); off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, text.size() - off));
    check(MPI_Send(text.data() + off, n, MPI_CHAR, to, kTagText, MPI_COMM_WORLD), "send (report)");
  }
}

std::string receive_text(int from) {
  unsigned long long size = 0;
  check(MPI_Recv(&size, 1, MPI_UNSIGNED_LONG_LONG, from, kTagSize, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "receive (size)");
  std::string text(size, '\0');
  for (std::size_t off = 0; off < text.size(); off += kChunk) {
    const int n = static_cast<int>(std::min<std::size_t>(kChunk, text.size() - off));
    check(MPI_Recv(text.data() + off, n, MPI_CHAR, from, kTagText, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "receive (report)");
  }
  return text;
}

// The node this rank speaks for: the recorded topology's host name (a test or a replay gives each rank its own),
// else the host it runs on.
std::string node_identity(const Options& o) {
  if (!o.topology_xml.empty()) {
    try {
      Topology::Options t;
      t.xml_path = o.topology_xml;
      const std::string h = Topology(t).inventory().hostname;
      if (!h.empty()) return h;
    } catch (const std::exception&) {
      // An unreadable topology fails the run below, with its message; the identity falls back to the host.
    }
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// This rank's node report as JSON text, or a probe-node-failure document saying why there is none.
std::string measure_node(const Options& o, const std::string& identity, const std::string& command, const char* argv0,
                         int rank) {
  Options node = o;
  node.format = "json";
  node.fleet_out.clear();
  node.sign = {};  // --sign signs the fleet report; a node's report travels over MPI, not as a file to sign
  std::ostringstream captured;  // the node's report is kept for the gather, not printed by every rank
  std::streambuf* const saved = std::cout.rdbuf(captured.rdbuf());
  std::string failure;
  try {
    const Outputs outputs = resolve_outputs("json", node.out_files, node.json_file);
    (void)run_report(node, outputs, command, argv0);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  std::cout.rdbuf(saved);
  if (failure.empty() && captured.str().empty()) failure = "the run wrote no report";
  if (!failure.empty()) {
    std::cerr << fmt::format("probe: rank {} ({}): {}\n", rank, identity, failure);
    return fleet::node_failure_json({identity, fmt::format("rank {}: {}", rank, failure), utc_now_iso8601()}).dump();
  }
  return captured.str();
}

}  // namespace

int run_fleet_mpi(const Options& o, const std::string& command, const char* argv0) {
  // The fleet report's destination is checked by every rank before anything is measured; only rank 0 writes it.
  const Outputs fleet_outputs = resolve_outputs("text", {o.fleet_out}, "");
  // Checked by every rank before MPI starts: a bad key stops them all alike instead of leaving ranks waiting.
  std::unique_ptr<RunSigner> signer;
  if (!o.sign.key_file.empty()) {
    if (report::format_from_path(o.fleet_out) != report::Format::json) {
      throw InputError(fmt::format("--sign: with --fleet-out the statement signs the JSON fleet report; '{}' is not "
                                   "a .json file",
                                   o.fleet_out));
    }
    signer = std::make_unique<RunSigner>(o.sign, o.fleet_out);
  }
  const MpiSession mpi;
  const int rank = mpi.rank(), size = mpi.size();

  // 1-2: identities first, then the roles.
  const std::string identity = node_identity(o);
  std::vector<int> measures(static_cast<std::size_t>(size), 1);
  std::vector<std::string> identities;
  if (rank == 0) {
    identities.push_back(identity);
    for (int r = 1; r < size; ++r) identities.push_back(receive_text(r));
    for (int r = 1; r < size; ++r) {
      for (int q = 0; q < r; ++q) {
        if (identities[static_cast<std::size_t>(q)] == identities[static_cast<std::size_t>(r)] &&
            measures[static_cast<std::size_t>(q)]) {
          measures[static_cast<std::size_t>(r)] = 0;
          std::cerr << fmt::format("probe: rank {} runs on node {} with rank {}: it stands down (one rank measures "
                                   "a node)\n",
                                   r, identities[static_cast<std::size_t>(r)], q);
          break;
        }
      }
    }
  } else {
    send_text(identity, 0);
  }
  int mine = 1;
  check(MPI_Scatter(measures.data(), 1, MPI_INT, &mine, 1, MPI_INT, 0, MPI_COMM_WORLD), "scatter (roles)");

  // 3: measure (or not), then 4: gather to rank 0, one rank at a time.
  std::string text = mine ? measure_node(o, identity, command, argv0, rank) : std::string();
  if (rank != 0) {
    if (mine) send_text(text, 0);
    return kExitOk;  // this node's state travels in the fleet report
  }
  FleetMerge merge(MergeOptions{});
  auto add = [&](const std::string& t, int r) {
    const std::string source = fmt::format("rank {} ({})", r, identities[static_cast<std::size_t>(r)]);
    try {
      merge.add_text(t, source);
    } catch (const InputError& e) {
      merge.add_failure(source, {identities[static_cast<std::size_t>(r)] + fmt::format(" (rank {})", r),
                                 fmt::format("its report is unusable: {}", e.what()), utc_now_iso8601()});
    }
  };
  add(text, 0);
  text.clear();
  for (int r = 1; r < size; ++r) {
    if (!measures[static_cast<std::size_t>(r)]) continue;
    add(receive_text(r), r);
  }
  return merge.write(fleet_outputs, signer.get(), command, {});
}

#endif

}  // namespace probe::cli
