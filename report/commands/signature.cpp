#include "signature.hpp"

#include <fmt/format.h>

#include "keys.hpp"
#include "probe/error.hpp"
#include "verify.hpp"

namespace probe::cli {

std::optional<std::filesystem::path> find_statement(const std::filesystem::path& report) {
  std::filesystem::path statement = report;
  statement += ".intoto.json";
  std::error_code ec;
  if (std::filesystem::is_regular_file(statement, ec)) return statement;
  return std::nullopt;
}

SignatureState signature_state(const std::filesystem::path& report) {
  SignatureState s;
  s.statement = find_statement(report);
  if (!s.statement) {
    s.text = "not checked (no statement beside the report)";
  } else if (!evidence::signing_available()) {
    s.text = fmt::format("not checked (statement {} found; this build has no libsodium)", s.statement->string());
  } else {
    // Without the signer's public key only the report's digest can be checked here: probe verify --key does the rest.
    try {
      evidence::VerifyOptions vo;
      vo.envelope = *s.statement;
      vo.report = report;
      const evidence::VerifyOutcome out = evidence::verify(vo);
      bool report_ok = false, report_failed = false;
      for (const auto& sub : out.subjects) {
        if (sub.role == "binary") s.run_binary_sha256 = sub.sha256;
      }
      for (const auto& c : out.checks) {
        if (!c.what.starts_with("report ")) continue;
        report_ok = c.state == evidence::Check::State::ok;
        report_failed = c.state == evidence::Check::State::failed;
      }
      s.checked = report_ok || report_failed;
      s.held = report_ok;
      s.text = report_failed ? fmt::format("FAILED: the report differs from the one signed in {}", s.statement->string())
               : report_ok   ? fmt::format("the report matches the digest signed in {}; the signature is checked with "
                                           "probe verify {} --key NAME.pub",
                                           s.statement->string(), s.statement->string())
                             : fmt::format("not checked (statement {} names no report)", s.statement->string());
    } catch (const InputError& e) {
      s.text = fmt::format("not checked (statement unusable: {})", e.what());
    }
  }
  return s;
}

}  // namespace probe::cli
