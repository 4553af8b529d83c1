#include "signature.hpp"

#include <fmt/format.h>

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
  // The check itself (DSSE envelope, Ed25519, subject digest = SHA-256 of the report) is filled in by the
  // signing work: it sets checked/held and the text here.
  s.text = s.statement ? fmt::format("not checked (statement {} found; this build does not verify signatures)",
                                     s.statement->string())
                       : "not checked (no statement beside the report)";
  return s;
}

}  // namespace probe::cli
