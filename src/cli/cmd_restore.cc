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
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/backup_wiring.h"
#include "cli/database_url.h"
#include "cli/exit_codes.h"
#include "common/fs.h"
#include "dr/restore/restore_in_place.h"
#include "dr/restore/switch_database.h"
#include "secrets/secret_store.h"
#include "stack/postgres_server.h"
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

namespace {

// The configuration the stack has once the instance is its database.
Config ConfigOnInstance(const Config& c, const std::string& name, const std::string& root,
                        const std::string& data_dir, int port) {
  Config next = c;
  next.postgres.port = port;
  next.postgres.data_dir = data_dir;
  next.postgres.socket_dir = root + "/run";
  next.postgres.active_instance = name;
  return next;
}

// The seed's last step of a switch: the verification checklist against the switched deployment,
// printed (or put into `out`). Exit 0, or 1 when a row failed.
int VerifySwitched(const CliContext& ctx, const Config& next, json* out) {
  auto rows = RunVerifyChecklist(next, "", "", next.DatabaseDsn());
  if (!rows.ok()) return FailCommand(ctx, rows.status().WithContext("auri verify"));
  bool verified = true;
  for (const auto& r : *rows) verified = verified && r.passed;
  (*out)["verify"] = {{"passed", verified}, {"checks", VerifyChecklistJson(*rows)}};
  if (!ctx.json) PrintVerifyChecklist(*rows, next.ApiBaseUrl());
  if (!verified) {
    std::fprintf(stderr, "auri: the switch is done but the verification checklist FAILED\n");
    return kExitCheckFailed;
  }
  return kExitOk;
}

// The archive_command of an instance that becomes the stack's database: the stack's repositories,
// with the instance's own spool and lock directories.
Result<std::string> InstanceArchiveCommand(const Config& c, const Config& next,
                                           const std::string& root) {
  dr::PgBackRestSettings archiving = BackupSettings(next);
  archiving.spool_path = root + "/spool";
  archiving.lock_path = root + "/lock";
  for (const std::string& dir : {archiving.spool_path, archiving.lock_path}) {
    RETURN_IF_ERROR(MakeDirectories(dir, 0750));
    if (::geteuid() == 0) RETURN_IF_ERROR(ChownRecursive(dir, c.postgres.run_as));
  }
  return dr::ArchiveCommandFor(archiving);
}

// Whether an instance's newest timeline was kept for the repositories: its history file has an
// archive status (.ready, or .done once archived), which PostgreSQL writes at the promotion only
// when archive_mode is on. Restores without --switch run with archive_mode=off, so theirs has
// none. Works whether the server runs or not.
bool TimelineKeptForArchiving(const std::string& data_dir) {
  std::error_code ec;
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(data_dir + "/pg_wal", ec)) {
    std::string n = e.path().filename().string();
    if (n.size() == 16 && n.substr(8) == ".history" && n > newest) newest = n;
  }
  if (newest.empty()) return false;
  const std::string status = data_dir + "/pg_wal/archive_status/" + newest;
  return PathExists(status + ".ready") || PathExists(status + ".done");
}

}  // namespace

int SwitchServicesToRestored(const CliContext& ctx, const dr::RestoredInstance& restored,
                             const dr::Progress& progress, json* out) {
  const Config& c = ctx.config;
  Config next = ConfigOnInstance(c, restored.name, restored.root, restored.data_dir, restored.port);

  auto archive_command = InstanceArchiveCommand(c, next, restored.root);
  if (!archive_command.ok()) return FailCommand(ctx, archive_command.status());

  auto store = OpenSecretStore(c);
  if (!store.ok()) return FailCommand(ctx, store.status());

  dr::SwitchOptions o;
  o.home = c.home;
  o.state_file = c.RunDir() + "/stack.json";
  o.old_admin_dsn = c.AdminDsn();
  o.database = c.postgres.database;
  o.instance_admin_dsn = next.AdminDsn();
  o.archive_command = *archive_command;
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
  if (!report.ok()) {
    // Every step of the switch can be repeated: `auri instance switch` finishes it.
    return FailCommand(ctx, Status(report.status().code(), report.status().message(),
                                   "the restored instance is kept; finish the switch with `auri "
                                   "instance switch " +
                                       restored.name + "`"));
  }

  progress.Step("running the verification checklist (auri verify)");
  (*out)["switch"] = {{"instance", restored.name},
                      {"port", restored.port},
                      {"dsn", next.DatabaseDsn()},
                      {"drain_seconds", report->drain_seconds},
                      {"connections_cut_on_old_primary", report->clients_left_on_old},
                      {"postgres_pid", report->adopted_pid},
                      {"old_primary_data_dir", o.record.previous_data_dir},
                      {"record", ActiveDatabaseFile(c.home)}};
  int verified = VerifySwitched(ctx, next, out);
  if (!ctx.json) {
    std::printf(
        "\nthe services use '%s' (port %d); the supervisor runs it (auri status, auri down)\n"
        "old primary: stopped; its data directory is kept at %s (remove it when satisfied)\n"
        "next: take a full backup of the new timeline: auri backup create\n",
        restored.name.c_str(), restored.port, o.record.previous_data_dir.c_str());
  }
  return verified;
}

int RunInstanceSwitch(const CliContext& ctx, const std::string& name) {
  const Config& c = ctx.config;
  dr::Progress progress(ctx.json);
  Status possible = CheckSwitchPossible(c);
  if (!possible.ok()) return FailCommand(ctx, possible);
  const std::string root = c.InstancesDir() + "/" + name;
  auto meta_text = ReadFileLimited(root + "/instance.json", 1 << 16);
  if (!meta_text.ok()) {
    return FailCommand(ctx, NotFound("no restored instance '" + name + "' in " + c.InstancesDir(),
                                     "restore one: auri restore --as " + name + " --latest"));
  }
  json meta = json::parse(*meta_text, nullptr, false);
  if (!meta.is_object() || !meta.contains("port") || !meta.contains("data_dir")) {
    return FailCommand(ctx, InvalidArgument(root + "/instance.json is not an instance record"));
  }
  dr::RestoredInstance instance;
  instance.name = name;
  instance.root = root;
  instance.data_dir = meta.value("data_dir", "");
  instance.port = meta.value("port", 0);

  auto lock = AcquireDrLock(ctx, "instance switch", progress);
  if (!lock.ok()) return FailCommand(ctx, lock.status());
  json out = {{"ok", false}, {"instance", name}};
  const bool recorded = c.postgres.active_instance == name;
  const bool running = ReadyPostmasterPid(instance.data_dir) > 0;
  Config next = ConfigOnInstance(c, name, root, instance.data_dir, instance.port);
  if (!recorded && !TimelineKeptForArchiving(instance.data_dir)) {
    // Restored without --switch, the server ran with archive_mode=off: the WAL of its new
    // timeline (and the timeline's history file) was never kept for archiving, so the
    // repositories could never hold it — and a later restore could even pick the same timeline
    // number. Only instances restored for a switch may become the stack's database.
    return FailCommand(
        ctx, FailedPrecondition("refusing to switch to '" + name +
                                    "': it was restored without --switch, so its timeline's WAL "
                                    "was not kept for the repositories (archive_mode=off)",
                                "restore again for a switch: auri restore --as NAME <target> "
                                "--switch"));
  }
  int code = kExitOk;
  if (!recorded && running) {
    // Not switched yet (or interrupted before the record): the whole switch, as --switch does.
    progress.Step("switching the services to the running instance '" + name + "'");
    code = SwitchServicesToRestored(ctx, instance, progress, &out);
  } else {
    // Interrupted after the record, or the instance's server is down (e.g. after a reboot): the
    // supervisor adopts or starts it with the stack's own settings (archiving included), then
    // the services are pointed at it.
    if (!recorded) {
      ActiveDatabase record;
      record.instance = name;
      record.data_dir = instance.data_dir;
      record.socket_dir = root + "/run";
      record.port = instance.port;
      record.switched_at =
          dr::FormatRfc3339(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
      record.previous_data_dir = c.PostgresDataDir();
      record.previous_port = c.postgres.port;
      Status written = WriteActiveDatabase(c.home, record);
      if (!written.ok()) return FailCommand(ctx, written);
    }
    if (running) {
      // Restored for a switch, it keeps its WAL without archiving until it is chosen (the
      // interrupted switch may not have got that far); a server the supervisor starts gets the
      // stack's archive_command on its command line instead.
      auto archive_command = InstanceArchiveCommand(c, next, root);
      Status archiving = archive_command.ok()
                             ? dr::EnableArchiving(next.AdminDsn(), *archive_command)
                             : archive_command.status();
      if (!archiving.ok()) {
        return FailCommand(ctx, archiving.WithContext("enabling WAL archiving on the instance"));
      }
    }
    progress.Step(std::string(recorded ? "'" + name + "' is recorded as the stack's database"
                                       : "recorded '" + name + "' as the stack's database") +
                  "; the supervisor " + (running ? "adopts" : "starts") + " its server");
    Status reload = RequestSupervisorReload(c.RunDir() + "/stack.json");
    if (!reload.ok()) return FailCommand(ctx, reload);
    const int port = instance.port;
    const std::string data_dir = instance.data_dir;
    auto adopted = WaitForComponent(
        c.RunDir() + "/stack.json", "postgres",
        [port, data_dir](const ComponentState& s) {
          return s.port == port && s.pid > 0 && s.pid == ReadyPostmasterPid(data_dir);
        },
        seconds(c.supervisor.start_timeout_seconds) + seconds(c.backup.ready_timeout_seconds));
    if (!adopted.ok()) return FailCommand(ctx, adopted.status());
    auto store = OpenSecretStore(c);
    if (!store.ok()) return FailCommand(ctx, store.status());
    Status pointed = store->Put(kDatabaseUrlSecret, SecretValue(next.DatabaseDsn())).status();
    if (!pointed.ok())
      return FailCommand(ctx, pointed.WithContext("writing the database-url secret"));
    progress.Step("postgresql of '" + name + "' is supervised (pid " +
                  std::to_string(adopted->pid) + ", port " + std::to_string(port) +
                  "); database-url names it, services reconnect within a second");
    // Give the services their second to follow the secret before the checklist probes them.
    std::this_thread::sleep_for(milliseconds(1500));
    progress.Step("running the verification checklist (auri verify)");
    out["switch"] = {{"instance", name},
                     {"port", port},
                     {"dsn", next.DatabaseDsn()},
                     {"postgres_pid", adopted->pid},
                     {"record", ActiveDatabaseFile(c.home)}};
    code = VerifySwitched(ctx, next, &out);
  }
  out["ok"] = code == kExitOk;
  if (ctx.json) std::printf("%s\n", out.dump(2).c_str());
  return code;
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
