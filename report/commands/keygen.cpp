// probe keygen --out NAME: an Ed25519 key pair for signing reports (NAME.key, mode 0600; NAME.pub).
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "command.hpp"
#include "keys.hpp"

namespace probe::cli {

Command add_keygen_command(CLI::App& parent) {
  auto out = std::make_shared<std::string>();
  CLI::App* app = parent.add_subcommand(
      "keygen", "Make an Ed25519 key pair for --sign: NAME.key (private, mode 0600, never overwritten) and NAME.pub");
  app->add_option("--out", *out, "Base name of the two files (NAME.key, NAME.pub)")->type_name("NAME")->required();
  return {app, [out] {
            evidence::require_signing();
            const std::string keyid = evidence::generate_key_files(*out);
            std::cout << "private key: " << *out << ".key (mode 0600: keep it secret; probe --sign " << *out
                      << ".key)\npublic key:  " << *out << ".pub (give it to whoever verifies: probe verify … --key "
                      << *out << ".pub)\nkey id:      " << keyid << "\n";
            return kExitOk;
          }};
}

}  // namespace probe::cli
