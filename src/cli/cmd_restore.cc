// `auri restore --switch` (second half: point the running services at the restored instance) and
// `auri restore --in-place --force`. The restore itself and the argument checks are RunRestore's
// (cmd_backup.cc); the work is in src/dr/restore.
//
// Ownership after a switch: the restored instance is the stack's database. The record
// <home>/postgres/active.json says so (LoadConfig applies it, so every command, `auri status`
// and the next `auri up` agree), the supervisor adopted its server (`auri down` stops it), and the
// old primary is stopped with its data directory kept where it was.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/backup_wiring.h"
#include "cli/database_url.h"
#include "cli/exit_codes.h"
#include "common/fs.h"
#include "dr/restore/restore_in_place.h"
#include "dr/restore/switch_database.h"
#include "secrets/secret_store.h"
#include "stack/process.h"
#include "stack/stack_control.h"

namespace auri {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

Status CheckSwitchPossible(const Config& c) {
  if (!c.EmbeddedPostgres() || !c.backup.enabled) {
    return FailedPrecondition("--switch needs the embedded stack with backups enabled",
                              "point an external deployment at the endpoint yourself");
  }
  auto stack = RunningStack(c.RunDir() + "/stack.json");
  if (!stack.ok()) {
    return FailedPrecondition("--switch needs the running stack: " + stack.status().message(),
                              "start it with `auri up`, or restore without --switch");
  }
  if (stack->state != "ready") {
    return FailedPrecondition("--switch needs a ready stack (it is " + stack->state + ")",
                              "wait for `auri up` to finish");
  }
  return Status::Ok();
}

std::vector<std::string> SwitchCandidateSettings(const Config& c) {
  // archive_mode needs a restart to change, archive_command does not: start with archiving on
  // and no command, so WAL is kept until SwitchStackDatabase sets the command. Nothing of this
  // instance reaches the repositories if it is never switched to.
  return {"archive_mode=on", "wal_level=replica",
          "archive_timeout=" + std::to_string(c.backup.archive_timeout_seconds),
          "track_commit_timestamp=on"};
}

int SwitchServicesToRestored(const CliContext& ctx, const dr::RestoredInstance& restored,
                             const dr::Progress& progress, json* out) {
  const Config& c = ctx.config;
  // The configuration the stack has once the instance is its database.
  Config next = c;
  next.postgres.port = restored.port;
  next.postgres.data_dir = restored.data_dir;
  next.postgres.socket_dir = restored.root + "/run";
  next.postgres.active_instance = restored.name;

  dr::PgBackRestSettings archiving = BackupSettings(next);
  archiving.spool_path = restored.root + "/spool";
  archiving.lock_path = restored.root + "/lock";
  for (const std::string& dir : {archiving.spool_path, archiving.lock_path}) {
    Status made = MakeDirectories(dir, 0750);
    if (made.ok() && ::geteuid() == 0) made = ChownRecursive(dir, c.postgres.run_as);
    if (!made.ok()) return FailCommand(ctx, made);
  }

  auto store = OpenSecretStore(c);
  if (!store.ok()) return FailCommand(ctx, store.status());

  dr::SwitchOptions o;
  o.home = c.home;
  o.state_file = c.RunDir() + "/stack.json";
  o.old_admin_dsn = c.AdminDsn();
  o.database = c.postgres.database;
  o.instance_admin_dsn = next.AdminDsn();
  o.archive_command = dr::ArchiveCommandFor(archiving);
  o.services_dsn = next.DatabaseDsn();
  o.record.instance = restored.name;
  o.record.data_dir = restored.data_dir;
  o.record.socket_dir = restored.root + "/run";
  o.record.port = restored.port;
  o.record.switched_at = dr::FormatRfc3339(std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
  o.record.previous_data_dir = c.PostgresDataDir();
  o.record.previous_port = c.postgres.port;
  o.point_services = [&store](const std::string& dsn) -> Status {
    return store->Put(kDatabaseUrlSecret, SecretValue(dsn)).status();
  };
  o.adopt_timeout = seconds(c.supervisor.start_timeout_seconds);
  auto report = dr::SwitchStackDatabase(o, progress);
  if (!report.ok()) return FailCommand(ctx, report.status());

  // The seed's last step: the verification checklist against the switched deployment.
  progress.Step("running the verification checklist (auri verify)");
  auto rows = RunVerifyChecklist(next, "", "", next.DatabaseDsn());
  if (!rows.ok()) return FailCommand(ctx, rows.status().WithContext("auri verify"));
  bool verified = true;
  for (const auto& r : *rows) verified = verified && r.passed;

  (*out)["switch"] = {{"instance", restored.name},
                      {"port", restored.port},
                      {"dsn", next.DatabaseDsn()},
                      {"drain_seconds", report->drain_seconds},
                      {"connections_cut_on_old_primary", report->clients_left_on_old},
                      {"postgres_pid", report->adopted_pid},
                      {"old_primary_data_dir", o.record.previous_data_dir},
                      {"record", ActiveDatabaseFile(c.home)}};
  (*out)["verify"] = {{"passed", verified}, {"checks", VerifyChecklistJson(*rows)}};
  if (!ctx.json) {
    PrintVerifyChecklist(*rows, c.ApiBaseUrl());
    std::printf(
        "\nthe services use '%s' (port %d); the supervisor runs it (auri status, auri down)\n"
        "old primary: stopped; its data directory is kept at %s (remove it when satisfied)\n"
        "next: take a full backup of the new timeline: auri backup create\n",
        restored.name.c_str(), restored.port, o.record.previous_data_dir.c_str());
  }
  if (!verified) {
    std::fprintf(stderr, "auri: the switch is done but the verification checklist FAILED\n");
    return kExitCheckFailed;
  }
  return kExitOk;
}

int RunRestoreInPlace(const CliContext& ctx, const RestoreCliOptions& options,
                      const dr::RestoreTarget& target) {
  const Config& c = ctx.config;
  dr::Progress progress(ctx.json);
  dr::InPlaceOptions o;
  o.target = target;
  o.repo = options.repo;
  o.data_dir = c.PostgresDataDir();
  o.socket_dir = c.PostgresSocketDir();
  o.log_file = c.LogDir() + "/postgres.log";
  o.host = c.postgres.host;
  o.port = c.postgres.port;
  o.pg_bin_dir = c.postgres.bin_dir;
  o.run_as = c.postgres.run_as;
  o.superuser = c.postgres.user;
  o.database = c.postgres.database;
  o.run_dir = c.RunDir();
  o.server_settings = BackupArchivingSettings(c);  // the stack's own: it is the primary
  o.restore_timeout = BackupCommandTimeout(c);
  o.ready_timeout = seconds(c.backup.ready_timeout_seconds);
  o.stop_timeout = seconds(c.supervisor.stop_timeout_seconds);
  if (!options.name.empty()) {
    progress.Step("note: --as " + options.name + " is ignored with --in-place");
  }

  auto lock = AcquireDrLock(ctx, "restore --in-place", progress);
  if (!lock.ok()) return FailCommand(ctx, lock.status());
  auto engine = MakeBackupEngine(c);
  if (!engine.ok()) return FailCommand(ctx, engine.status());
  auto result = dr::RestoreInPlace(**engine, o, progress);
  if (!result.ok()) return FailCommand(ctx, result.status());
  bool passed = result->checks.Passed();
  if (ctx.json) {
    std::printf("%s\n", json({{"ok", passed},
                              {"in_place", true},
                              {"target", result->target},
                              {"data_dir", o.data_dir},
                              {"moved_aside", result->moved_aside},
                              {"supervised", result->supervised},
                              {"dsn", result->dsn},
                              {"restore_seconds", result->restore_seconds},
                              {"recovery_seconds", result->recovery_seconds},
                              {"outage_seconds", result->outage_seconds},
                              {"total_seconds", progress.Seconds()},
                              {"integrity", IntegrityJson(result->checks)}})
                            .dump(2)
                            .c_str());
  } else {
    std::fputs(dr::RenderIntegrityReport(result->checks).c_str(), stdout);
    std::printf(
        "\nrestored %s in place (%s) in %.1f s; postgresql was down %.1f s\n"
        "old data directory kept at %s (remove it when satisfied)\n",
        o.data_dir.c_str(), result->target.c_str(), progress.Seconds(), result->outage_seconds,
        result->moved_aside.c_str());
  }
  if (!passed) {
    std::fprintf(stderr, "auri: integrity checks failed on the restored database\n");
    return kExitCheckFailed;
  }
  return kExitOk;
}

}  // namespace auri
