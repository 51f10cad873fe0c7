#pragma once
// What every subcommand receives: the loaded Config, a logger, and the config arguments to pass on
// to child processes (so `auri supervise` and its `auri api-gateway` child load the same Config).
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/result.h"
#include "config/config.h"

namespace auri {

struct CliContext {
  const Config& config;
  const Logger& log;
  std::vector<std::string> config_args;  // e.g. {"--config", "/abs/auri.toml", "--set", "a.b=c"}
  std::string self_exe;                  // absolute path of this binary
  bool json = false;                     // --json: one machine-readable document on stdout
  ConfigSources config_sources;          // how `config` was loaded (the supervisor reloads it)
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
int RunEventProcessor(const CliContext& ctx);
struct IngestOptions {
  std::string file;  // JSON lines, one event per line
  int batch = 500;   // events per request, 1..1000
  std::string url;   // gateway base URL; empty: Config::ApiBaseUrl()
};
int RunIngest(const CliContext& ctx, const IngestOptions& options);
struct ManifestOptions {
  std::string out;  // file to write; empty: stdout
  std::string dsn;  // database to read; empty: the configured one
};
int RunManifestCreate(const CliContext& ctx, const ManifestOptions& options);
struct VerifyCommandOptions {
  std::string url;       // gateway base URL; empty: Config::ApiBaseUrl()
  std::string manifest;  // manifest file to compare the configuration with; empty: none
};
int RunVerify(const CliContext& ctx, const VerifyCommandOptions& options);
struct DrillCommandOptions {
  std::string name;  // a drill (dr/drill/run_drill.h) or "report"
  bool keep = false;
  bool target_running = false;
  int users = 3;  // seed size
  int events = 500;
  int ballast_mb = 0;     // extra bulk data for restore-speed measurements
  std::string write_dir;  // report: one Markdown file per drill here
};
int RunDrillCommand(const CliContext& ctx, const DrillCommandOptions& options);
// `auri dev webhook-receiver`: prints what it receives on 127.0.0.1:port (0 = any free port).
int RunDevWebhookReceiver(const CliContext& ctx, int port);
struct BackupCreateOptions {
  std::string type = "full";  // full | diff | incr
  std::string label;
  int repo = 0;  // 0 = every configured repository
};
int RunBackupCreate(const CliContext& ctx, const BackupCreateOptions& options);
int RunBackupList(const CliContext& ctx);
int RunBackupExpire(const CliContext& ctx);
struct BackupVerifyOptions {
  std::string id;  // empty = the newest backup of each repository
  int repo = 0;    // 0 = every repository
};
int RunBackupVerify(const CliContext& ctx, const BackupVerifyOptions& options);
struct RestoreCliOptions {
  std::string name;  // --as
  std::string backup_id;
  std::string time;  // RFC 3339
  bool latest = false;
  int port = 0;
  int repo = 0;
  bool in_place = false;
  bool force = false;
  bool switch_services = false;  // --switch
};
int RunRestore(const CliContext& ctx, const RestoreCliOptions& options);
int RunDrCheck(const CliContext& ctx, const std::string& dsn);
int RunDrStatus(const CliContext& ctx);
int RunDrAgent(const CliContext& ctx);
int RunInstanceRemove(const CliContext& ctx, const std::string& name);
// `auri instance switch NAME`: make a restored instance the stack's database, or finish an
// interrupted `auri restore --switch` (cmd_restore.cc).
int RunInstanceSwitch(const CliContext& ctx, const std::string& name);
int RunSecretsList(const CliContext& ctx);
int RunActionWorkers(const CliContext& ctx);
struct JobsOptions {
  std::string trigger;  // --trigger / --all-for-trigger
  std::string job_id;   // replay: one job
  int limit = 100;      // dead-letters: most rows listed
};
int RunJobsDeadLetters(const CliContext& ctx, const JobsOptions& options);
int RunJobsReplay(const CliContext& ctx, const JobsOptions& options);
int RunSecretsShow(const CliContext& ctx, const std::string& name, bool reveal);

}  // namespace auri

namespace auri {
// Opens (creating on first start) the master key and the secret store under <home>/secrets and
// generates the initial secrets (jwt-signing-key, ingest-token, webhook-signing-secret) if absent.
Status PrepareSecrets(const Config& config);
}  // namespace auri

namespace auri {
class SecretStore;
// Opens the existing secret store of `config` (the one `auri up`/PrepareSecrets created), with the
// master key from AURI_MASTER_KEY or the key file. Errors: those of LoadOrCreateMasterKey and
// SecretStore::Open (e.g. kNotFound when the store was never prepared).
Result<SecretStore> OpenSecretStore(const Config& config);

// Continuous archiving for `auri up` (cmd_backup.cc). Each does nothing when backup.enabled = 0 or
// the database is external.
// PostgreSQL `-c` settings: archive_mode, archive_command (pgBackRest async archive-push),
// archive_timeout.
std::vector<std::string> BackupArchivingSettings(const Config& config);
// Writes <home>/backups/pgbackrest.conf and the repository directories. REQUIRES: PrepareSecrets.
Status PrepareBackupConfiguration(const Config& config);
// Creates (or checks) the pgBackRest stanza in every repository. REQUIRES: postgres running.
Status PrepareBackupRepositories(const Config& config);
}  // namespace auri
