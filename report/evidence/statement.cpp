#include "statement.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <random>

#include "base64.hpp"
#include "build_info.hpp"
#include "probe/error.hpp"
#include "probe/input_file.hpp"
#include "rules.hpp"

namespace probe::data {
std::string_view cpu_uarch();  // embedded data/cpu_uarch.json (probes/cpu)
}

namespace probe::evidence {
namespace {

using nlohmann::json;

// A small system file's first line, or "not readable (<why>)": DMI serials are root-only on most systems.
std::string system_value(const char* path) {
  std::ifstream in(path);
  if (!in) return fmt::format("not readable ({})", std::strerror(errno));
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line.empty() ? std::string("not readable (empty)") : line;
}

// One property of a device's identity as the backend recorded it, or nothing.
void copy_property(json& out, const DeviceInfo& info, std::string_view key) {
  for (const auto& [k, v] : info.properties) {
    if (k == key) out[std::string(key)] = v;
  }
}

std::string bytes_field(const json& j, const char* name, std::string_view source) {
  if (!j.contains(name)) return {};
  if (!j[name].is_string()) throw InputError(fmt::format("{}: attestation field '{}' is not a string", source, name));
  auto v = base64_decode(j[name].get<std::string>());
  if (!v) throw InputError(fmt::format("{}: attestation field '{}' is not base64", source, name));
  return *v;
}

}  // namespace

std::string attestation_nonce(std::string_view challenge, std::string_view report_sha256_hex) {
  const auto report = hex_decode(report_sha256_hex);
  std::string input(kNonceDomainTag);
  input += challenge;
  input += report.value_or(std::string(report_sha256_hex));
  return *hex_decode(rules::sha256_hex(input));
}

std::string file_sha256(const std::string& path) {
  // The CUDA plugin carries its kernels for every architecture: allow 1 GiB.
  return rules::sha256_hex(read_input_file(path, std::uint64_t{1} << 30));
}

json host_identity() {
  json h;
  std::array<char, 256> name{};
  h["hostname"] = ::gethostname(name.data(), name.size() - 1) == 0 ? std::string(name.data())
                                                                    : fmt::format("not readable ({})", std::strerror(errno));
  h["machine_id"] = system_value("/etc/machine-id");
  json dmi;
  for (const char* f : {"sys_vendor", "product_name", "product_serial", "product_uuid", "board_serial"}) {
    dmi[f] = system_value(fmt::format("/sys/class/dmi/id/{}", f).c_str());
  }
  h["dmi"] = dmi;
  return h;
}

json build_identity() {
  return {{"version", build::kVersion},        {"git_commit", build::kGitCommit},
          {"compiler", build::kCompiler},      {"build_type", build::kBuildType},
          {"flags", build::kFlags},            {"signing", "libsodium " + std::string(build::kSodiumVersion)}};
}

std::vector<Subject> embedded_data_subjects() {
  return {{std::string(kEmbeddedPrefix) + "data/cpu_uarch.json", "cpu-uarch", rules::sha256_hex(probe::data::cpu_uarch())},
          {std::string(kEmbeddedPrefix) + "data/schema/report.schema.json", "schema", build::kReportSchemaSha256}};
}

std::string new_run_id() {
  std::random_device rd;
  std::array<unsigned char, 16> b{};
  for (auto& x : b) x = static_cast<unsigned char>(rd());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string h = hex_encode({reinterpret_cast<const char*>(b.data()), b.size()});
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4), h.substr(16, 4), h.substr(20));
}

json to_json(const Attestation& a) {
  if (!a.available) return {{"available", false}, {"reason", a.reason}};
  json j{{"available", true}, {"source", a.source}, {"nonce", hex_encode(a.nonce)}, {"report", base64_encode(a.report)}};
  if (!a.cec_report.empty()) j["cec_report"] = base64_encode(a.cec_report);
  j["certificate_chain"] = base64_encode(a.certificate_chain);
  j["attestation_certificate_chain"] = base64_encode(a.attestation_certificate_chain);
  return j;
}

Attestation attestation_from_json(const json& j, std::string_view source) {
  if (!j.is_object() || !j.contains("available") || !j["available"].is_boolean()) {
    throw InputError(fmt::format("{}: attestation without 'available'", source));
  }
  Attestation a;
  a.available = j["available"].get<bool>();
  auto text = [&](const char* name) {
    if (!j.contains(name)) return std::string();
    if (!j[name].is_string()) throw InputError(fmt::format("{}: attestation field '{}' is not a string", source, name));
    return j[name].get<std::string>();
  };
  a.reason = text("reason");
  a.source = text("source");
  if (const std::string n = text("nonce"); !n.empty()) {
    auto raw = hex_decode(n);
    if (!raw) throw InputError(fmt::format("{}: attestation field 'nonce' is not hex", source));
    a.nonce = *raw;
  }
  a.report = bytes_field(j, "report", source);
  a.cec_report = bytes_field(j, "cec_report", source);
  a.certificate_chain = bytes_field(j, "certificate_chain", source);
  a.attestation_certificate_chain = bytes_field(j, "attestation_certificate_chain", source);
  return a;
}

json statement_json(const RunEvidence& run) {
  json subjects = json::array();
  for (const auto& s : run.subjects) {
    subjects.push_back({{"name", s.name}, {"digest", {{"sha256", s.sha256}}}, {"annotations", {{"role", s.role}}}});
  }
  json devices = json::array();
  for (const auto& d : run.devices) {
    json id{{"id", d.info.id}, {"backend", d.info.backend}, {"name", d.info.name}, {"vendor", d.info.vendor},
            {"arch", d.info.arch}};
    if (d.info.pci) {
      id["pci"] = {{"bus_id", d.info.pci->bus_id},
                   {"vendor_id", fmt::format("{:04x}", d.info.pci->vendor_id)},
                   {"device_id", fmt::format("{:04x}", d.info.pci->device_id)},
                   {"subsystem_vendor_id", fmt::format("{:04x}", d.info.pci->subvendor_id)},
                   {"subsystem_device_id", fmt::format("{:04x}", d.info.pci->subdevice_id)}};
    }
    for (const char* key : {"uuid", "serial", "board_part_number", "vbios", "driver_version", "runtime_version"}) {
      copy_property(id, d.info, key);
    }
    id["attestation"] = to_json(d.attestation);
    devices.push_back(std::move(id));
  }
  std::string report_digest;
  for (const auto& s : run.subjects) {
    if (s.role == "report") report_digest = s.sha256;
  }
  json predicate{
      {"run_id", run.run_id},
      {"challenge", run.challenge_hex},
      {"command", run.command},
      {"started_at", run.started_at},
      {"finished_at", run.finished_at},
      {"report_status", run.report_status},
      {"attestation_nonce",
       {{"sha256", hex_encode(attestation_nonce(*hex_decode(run.challenge_hex), report_digest))},
        {"derivation", fmt::format("SHA-256(\"{}\" || challenge bytes || SHA-256 of the report)", kNonceDomainTag)}}},
      {"host", host_identity()},
      {"devices", devices},
      {"build", build_identity()},
      {"signer", {{"keyid", run.signer_keyid}}}};
  return {{"_type", kStatementType}, {"subject", subjects}, {"predicateType", kPredicateType}, {"predicate", predicate}};
}

}  // namespace probe::evidence
