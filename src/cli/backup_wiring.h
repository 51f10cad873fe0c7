#pragma once
// How the CLI wires Config + the secret store into src/dr (defined in cmd_backup.cc), shared by
// the backup/restore commands and the dr-agent role.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/context.h"
#include "dr/check/integrity_check.h"
#include "dr/checklist/verify_deployment.h"
#include "dr/dr_lock.h"
#include "dr/pgbackrest/pgbackrest_engine.h"
#include "dr/progress.h"
#include "dr/restore/restore_instance.h"

namespace auri {

// pgBackRest settings of the deployment, without the cipher pass (enough for archive_command).
dr::PgBackRestSettings BackupSettings(const Config& config);
// The engine with the cipher pass from the secret store; writes pgbackrest.conf. Errors:
// kFailedPrecondition when backups are disabled or the database is external.
Result<std::unique_ptr<dr::PgBackRestEngine>> MakeBackupEngine(const Config& config);
std::chrono::milliseconds BackupCommandTimeout(const Config& config);
// Restore options every command shares (instances dir, server user, timeouts, primary DSN).
dr::RestoreOptions BaseRestoreOptions(const Config& config);
// The DR lock, waiting backup.lock_wait_seconds for another DR command (progress says so).
Result<dr::DrLock> AcquireDrLock(const CliContext& ctx, const std::string& command,
                                 const dr::Progress& progress);
// Status → exit code, with a JSON error document on stdout under --json.
int FailCommand(const CliContext& ctx, const Status& status);
nlohmann::json IntegrityJson(const dr::IntegrityReport& report);
std::string HumanBytes(int64_t bytes);

// `auri verify`'s checklist (cmd_verify.cc) against `api_url` (empty = the configured gateway) and
// database `dsn` (empty = the services' database). Errors: the secret store or ingest token is
// missing.
Result<std::vector<dr::CheckRow>> RunVerifyChecklist(const Config& config,
                                                     const std::string& api_url,
                                                     const std::string& manifest_json,
                                                     const std::string& dsn);
void PrintVerifyChecklist(const std::vector<dr::CheckRow>& rows, const std::string& url);
nlohmann::json VerifyChecklistJson(const std::vector<dr::CheckRow>& rows);

// `auri restore --in-place --force` (cmd_restore.cc).
int RunRestoreInPlace(const CliContext& ctx, const RestoreCliOptions& options,
                      const dr::RestoreTarget& target);
// `--switch`: refuses (kFailedPrecondition) unless the embedded stack runs with backups on.
Status CheckSwitchPossible(const Config& config);
// Restore settings of an instance meant to become the stack's database (archive_mode=on, no
// archive_command yet).
std::vector<std::string> SwitchCandidateSettings(const Config& config);
// The second half of `auri restore --switch` on a restored, checked instance: switch, then the
// verification checklist. Adds "switch" and "verify" to `out`; returns the exit code.
int SwitchServicesToRestored(const CliContext& ctx, const dr::RestoredInstance& restored,
                             const dr::Progress& progress, nlohmann::json* out);

}  // namespace auri
