#pragma once
// What every subcommand receives: the loaded Config, a logger, and the config arguments to pass on
// to child processes (so `auri supervise` and its `auri api-gateway` child load the same Config).
#include <string>
#include <vector>

#include "common/logging.h"
#include "config/config.h"

namespace auri {

struct CliContext {
  const Config& config;
  const Logger& log;
  std::vector<std::string> config_args;  // e.g. {"--config", "/abs/auri.toml", "--set", "a.b=c"}
  std::string self_exe;                  // absolute path of this binary
  bool json = false;                     // --json: one machine-readable document on stdout
};

// Subcommands; each returns a process exit code (cli/exit_codes.h).
struct UpOptions {
  bool foreground = false;
};
int RunUp(const CliContext& ctx, const UpOptions& options);
int RunSupervise(const CliContext& ctx);
int RunDown(const CliContext& ctx);
int RunStatus(const CliContext& ctx);
int RunMigrate(const CliContext& ctx);
int RunApiGateway(const CliContext& ctx);
int RunSecretsList(const CliContext& ctx);
int RunSecretsShow(const CliContext& ctx, const std::string& name, bool reveal);

}  // namespace auri

namespace auri {
// Opens (creating on first start) the master key and the secret store under <home>/secrets and
// generates the initial secrets (jwt-signing-key, ingest-token, webhook-signing-secret) if absent.
Status PrepareSecrets(const Config& config);
}  // namespace auri
