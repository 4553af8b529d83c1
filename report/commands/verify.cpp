// probe verify R.json.intoto.json [--key NAME.pub] [--report R.json] [--challenge HEX]: what was checked, one line
// each; exit 0 when every check that could be made holds, 1 naming the ones that failed, 2 on unusable input.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>

#include "cli.hpp"
#include "command.hpp"
#include "verify.hpp"

namespace probe::cli {
namespace {

struct VerifyArgs {
  std::string envelope, key, report, challenge;
};

int run_verify(const VerifyArgs& a) {
  evidence::VerifyOptions o;
  o.envelope = a.envelope;
  if (!a.key.empty()) o.key = a.key;
  if (!a.report.empty()) o.report = a.report;
  if (!a.challenge.empty()) o.challenge_hex = a.challenge;
  const evidence::VerifyOutcome outcome = evidence::verify(o);
  std::string out = fmt::format("{}\n", a.envelope);
  for (const auto& c : outcome.checks) {
    const char* state = c.state == evidence::Check::State::ok       ? "ok         "
                        : c.state == evidence::Check::State::failed ? "FAILED     "
                                                                    : "not checked";
    out += fmt::format("  {} {}: {}\n", state, c.what, c.detail);
  }
  const auto failed = outcome.failed();
  out += failed.empty() ? std::string("verified: every check made holds\n")
                        : fmt::format("NOT verified: {} failed\n", fmt::join(failed, ", "));
  std::cout << out;
  return failed.empty() ? kExitOk : 1;
}

}  // namespace

Command add_verify_command(CLI::App& parent) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* app = parent.add_subcommand(
      "verify", "Check a signed statement (probe --sign): signature, key, report and file digests, attestation nonce");
  app->add_option("envelope", args->envelope, "The DSSE envelope: R.json.intoto.json")->type_name("FILE")->required();
  app->add_option("--key", args->key, "The signer's public key (probe keygen's NAME.pub); required for exit 0")
      ->type_name("NAME.pub");
  app->add_option("--report", args->report, "The report the statement is about (default: the envelope's name less "
                                            ".intoto.json)")
      ->type_name("FILE");
  app->add_option("--challenge", args->challenge, "Also check that the statement answers this challenge")
      ->type_name("HEX");
  return {app, [args] { return run_verify(*args); }};
}

}  // namespace probe::cli
