// `auri backup create|list|expire|verify`, `auri restore`, `auri dr check`, `auri instance remove`,
// and the archiving wiring `auri up` uses (BackupArchivingSettings, PrepareBackupConfiguration,
// PrepareBackupRepositories). Wires Config + the secret store into the pgBackRest engine; the
// work itself is in src/dr.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/backup_wiring.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "common/fs.h"
#include "dr/check/integrity_check.h"
#include "dr/dr_lock.h"
#include "dr/pgbackrest/pgbackrest_engine.h"
#include "dr/progress.h"
#include "dr/restore/restore_instance.h"
#include "dr/verify/verify_backup.h"
#include "secrets/secret_store.h"
#include "stack/postgres_server.h"

namespace auri {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Settings without the cipher pass (enough for the archive_command).
dr::PgBackRestSettings BackupSettings(const Config& c) {
  dr::PgBackRestSettings s;
  s.bin = c.backup.pgbackrest_bin;
  s.config_file = c.BackupDir() + "/pgbackrest.conf";
  s.stanza = c.backup.stanza;
  s.repo_paths = c.BackupRepoPaths();
  s.cipher_type = c.backup.cipher_type;
  s.compress_type = c.backup.compress_type;
  s.compress_level = c.backup.compress_level;
  s.process_max = c.backup.process_max > 0
                      ? c.backup.process_max
                      : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  s.retention_full_days = c.backup.retention_full_days;
  s.spool_path = c.BackupDir() + "/spool";
  s.log_path = c.BackupDir() + "/log";
  s.lock_path = c.BackupDir() + "/lock";
  s.pg_data_dir = c.PostgresDataDir();
  s.pg_port = c.postgres.port;
  s.pg_socket_dir = c.PostgresSocketDir();
  s.pg_user = c.postgres.user;
  s.run_as = c.postgres.run_as;
  return s;
}

static Result<dr::PgBackRestSettings> FullSettings(const Config& c) {
  if (!c.backup.enabled) {
    return FailedPrecondition("backups are disabled (backup.enabled = 0)",
                              "set backup.enabled = 1 in auri.toml and restart with `auri up`");
  }
  if (!c.EmbeddedPostgres()) {
    return FailedPrecondition(
        "backups need the embedded postgresql (postgres.dsn is set)",
        "back up an external database with its own tooling, or run Auri's embedded cluster");
  }
  dr::PgBackRestSettings s = BackupSettings(c);
  if (s.cipher_type != "none") {
    ASSIGN_OR_RETURN(SecretStore store, OpenSecretStore(c));
    auto pass = store.Get("backup-cipher-pass");
    if (!pass.ok()) {
      return pass.status()
          .WithContext("reading secret backup-cipher-pass")
          .WithHint("run `auri up` once: it creates the secret");
    }
    s.cipher_pass = pass->value.reveal();
  }
  return s;
}

Result<std::unique_ptr<dr::PgBackRestEngine>> MakeBackupEngine(const Config& c) {
  ASSIGN_OR_RETURN(dr::PgBackRestSettings s, FullSettings(c));
  auto engine = std::make_unique<dr::PgBackRestEngine>(std::move(s));
  RETURN_IF_ERROR(engine->WriteConfiguration());
  return engine;
}

milliseconds BackupCommandTimeout(const Config& c) {
  return seconds(c.backup.command_timeout_seconds);
}

std::string HumanBytes(int64_t bytes) {
  char buf[32];
  if (bytes >= (int64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / double(int64_t{1} << 30));
  } else if (bytes >= (1 << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / double(1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  }
  return buf;
}

static json BackupJson(const dr::BackupRecord& b) {
  return {{"id", b.id},
          {"label", b.label},
          {"type", b.type},
          {"repo", b.repo},
          {"start", dr::FormatRfc3339(b.start_unix * 1000000)},
          {"stop", dr::FormatRfc3339(b.stop_unix * 1000000)},
          {"size_bytes", b.size_bytes},
          {"repo_size_bytes", b.repo_size_bytes},
          {"wal_start", b.wal_start},
          {"wal_stop", b.wal_stop},
          {"prior", b.prior}};
}

static json WindowJson(const dr::RestorableWindow& w) {
  if (w.empty) return nullptr;
  return {{"earliest", dr::FormatRfc3339(w.earliest_us)},
          {"latest", dr::FormatRfc3339(w.latest_us)}};
}

json IntegrityJson(const dr::IntegrityReport& r) {
  json checks = json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  }
  return {{"passed", r.Passed()}, {"checks", checks}, {"row_counts", r.row_counts}};
}

// The restore options every command shares (restore, verify).
dr::RestoreOptions BaseRestoreOptions(const Config& c) {
  dr::RestoreOptions o;
  o.instances_dir = c.InstancesDir();
  o.host = "127.0.0.1";
  o.pg_bin_dir = c.postgres.bin_dir;
  o.run_as = c.postgres.run_as;
  o.superuser = c.postgres.user;
  o.database = c.postgres.database;
  o.primary_admin_dsn = c.AdminDsn();
  o.restore_timeout = BackupCommandTimeout(c);
  o.ready_timeout = seconds(c.backup.ready_timeout_seconds);
  return o;
}

// Status → exit code, with a JSON error document on stdout under --json.
int FailCommand(const CliContext& ctx, const Status& s) {
  if (ctx.json) {
    std::printf("%s\n", json({{"ok", false},
                              {"error", s.message()},
                              {"hint", s.hint()},
                              {"code", std::string(StatusCodeName(s.code()))}})
                            .dump(2)
                            .c_str());
  }
  return ReportFailure(s);
}

Result<dr::DrLock> AcquireDrLock(const CliContext& ctx, const std::string& command,
                                 const dr::Progress& progress) {
  return dr::DrLock::AcquireWaiting(
      ctx.config.RunDir(), command, seconds(ctx.config.backup.lock_wait_seconds),
      [&](const std::string& holder) {
        progress.Step(holder + "; waiting up to " +
                      std::to_string(ctx.config.backup.lock_wait_seconds) + " s for it to finish");
      });
}

std::vector<std::string> BackupArchivingSettings(const Config& c) {
  if (!c.backup.enabled || !c.EmbeddedPostgres()) return {};
  return dr::ArchivingSettings(BackupSettings(c), c.backup.archive_timeout_seconds);
}

Status PrepareBackupConfiguration(const Config& c) {
  if (!c.backup.enabled || !c.EmbeddedPostgres()) return Status::Ok();
  ASSIGN_OR_RETURN(auto engine, MakeBackupEngine(c));
  return Status::Ok();
}

Status PrepareBackupRepositories(const Config& c) {
  if (!c.backup.enabled || !c.EmbeddedPostgres()) return Status::Ok();
  ASSIGN_OR_RETURN(auto engine, MakeBackupEngine(c));
  return engine->PrepareRepositories(seconds(120)).WithContext("creating the pgbackrest stanza");
}

int RunBackupCreate(const CliContext& ctx, const BackupCreateOptions& options) {
  const Config& c = ctx.config;
  dr::Progress progress(ctx.json);
  auto type = dr::ParseBackupType(options.type);
  if (!type.ok()) return FailCommand(ctx, type.status());
  if (options.label.size() > 100 || options.label.find_first_of("\n\r=") != std::string::npos) {
    return FailCommand(ctx, InvalidArgument("--label must be at most 100 characters without '=' or "
                                            "line breaks"));
  }
  auto lock = AcquireDrLock(ctx, "backup create", progress);
  if (!lock.ok()) return FailCommand(ctx, lock.status());
  auto engine = MakeBackupEngine(c);
  if (!engine.ok()) return FailCommand(ctx, engine.status());
  int repos = static_cast<int>(c.BackupRepoPaths().size());
  if (options.repo < 0 || options.repo > repos) {
    return FailCommand(ctx,
                       InvalidArgument("--repo must be between 1 and " + std::to_string(repos)));
  }
  json out = json::array();
  // Every repository gets its own backup (pgBackRest backs up to one repository per run), so
  // losing one repository loses no restore point.
  for (int repo = 1; repo <= repos; ++repo) {
    if (options.repo != 0 && repo != options.repo) continue;
    progress.Step(std::string("taking a ") + dr::BackupTypeName(*type) + " backup into repo" +
                  std::to_string(repo));
    double t0 = progress.Seconds();
    auto record = (*engine)->CreateBackup(*type, options.label, repo, BackupCommandTimeout(c));
    if (!record.ok()) return FailCommand(ctx, record.status());
    double secs = progress.Seconds() - t0;
    double mbps = secs > 0 ? record->size_bytes / 1e6 / secs : 0;
    json j = BackupJson(*record);
    j["seconds"] = secs;
    j["mb_per_second"] = mbps;
    out.push_back(j);
    if (!ctx.json) {
      std::printf("backup %s  type %s  repo%d  size %s (stored %s)  %.1f s  %.0f MB/s%s\n",
                  record->id.c_str(), record->type.c_str(), repo,
                  HumanBytes(record->size_bytes).c_str(),
                  HumanBytes(record->repo_size_bytes).c_str(), secs, mbps,
                  record->label.empty() ? "" : ("  label " + record->label).c_str());
    }
  }
  if (ctx.json) std::printf("%s\n", json({{"ok", true}, {"backups", out}}).dump(2).c_str());
  return kExitOk;
}

int RunBackupList(const CliContext& ctx) {
  const Config& c = ctx.config;
  auto engine = MakeBackupEngine(c);
  if (!engine.ok()) return FailCommand(ctx, engine.status());
  auto catalog = (*engine)->List(BackupCommandTimeout(c));
  if (!catalog.ok()) return FailCommand(ctx, catalog.status());
  auto window = dr::ComputeWindow(*catalog, dr::LastArchivedTime(c.AdminDsn()));
  auto paths = c.BackupRepoPaths();
  std::vector<std::map<std::string, dr::VerificationRecord>> verified;
  for (const auto& p : paths) verified.push_back(dr::ReadVerifications(p));
  auto state_of = [&](const dr::BackupRecord& b) -> dr::VerificationRecord {
    if (b.repo < 1 || b.repo > static_cast<int>(verified.size())) return {};
    auto it = verified[b.repo - 1].find(b.id);
    return it == verified[b.repo - 1].end() ? dr::VerificationRecord{} : it->second;
  };
  if (ctx.json) {
    json backups = json::array();
    for (const auto& b : catalog->backups) {
      json j = BackupJson(b);
      auto v = state_of(b);
      j["verification"] = v.state.empty() ? "unverified" : v.state;
      j["verified_at"] = v.verified_at;
      backups.push_back(j);
    }
    json repos = json::array();
    for (const auto& r : catalog->repos) {
      repos.push_back(
          {{"repo", r.repo},
           {"path",
            r.repo >= 1 && r.repo <= static_cast<int>(paths.size()) ? paths[r.repo - 1] : ""},
           {"ok", r.ok},
           {"status", r.message},
           {"wal_min", r.wal_min},
           {"wal_max", r.wal_max}});
    }
    std::printf("%s\n", json({{"backups", backups},
                              {"repositories", repos},
                              {"restorable_window", WindowJson(window)}})
                            .dump(2)
                            .c_str());
    return kExitOk;
  }
  std::printf("%-18s %-16s %-4s %-5s %-20s %-20s %10s %10s  %-17s %s\n", "ID", "LABEL", "TYPE",
              "REPO", "START", "STOP", "SIZE", "STORED", "WAL", "VERIFIED");
  for (const auto& b : catalog->backups) {
    auto v = state_of(b);
    std::string wal = b.wal_start.size() == 24 && b.wal_stop.size() == 24
                          ? b.wal_start.substr(16) + ".." + b.wal_stop.substr(16)
                          : b.wal_start + ".." + b.wal_stop;
    std::printf(
        "%-18s %-16s %-4s repo%d %-20s %-20s %10s %10s  %-17s %s\n", b.id.c_str(),
        b.label.empty() ? "-" : b.label.c_str(), b.type.c_str(), b.repo,
        dr::FormatRfc3339(b.start_unix * 1000000).substr(0, 19).c_str(),
        dr::FormatRfc3339(b.stop_unix * 1000000).substr(0, 19).c_str(),
        HumanBytes(b.size_bytes).c_str(), HumanBytes(b.repo_size_bytes).c_str(), wal.c_str(),
        v.state.empty() ? "unverified" : (v.state + " " + v.verified_at.substr(0, 19)).c_str());
  }
  for (const auto& r : catalog->repos) {
    std::printf("repo%d: %s%s%s\n", r.repo, r.message.c_str(),
                r.wal_min.empty() ? "" : ", wal archived ",
                r.wal_min.empty() ? "" : (r.wal_min + " .. " + r.wal_max).c_str());
  }
  if (window.empty) {
    std::printf("restorable window: none (no backup yet)\n");
  } else {
    std::printf("restorable window: %s .. %s\n", dr::FormatRfc3339(window.earliest_us).c_str(),
                dr::FormatRfc3339(window.latest_us).c_str());
  }
  return kExitOk;
}

int RunBackupExpire(const CliContext& ctx) {
  const Config& c = ctx.config;
  dr::Progress progress(ctx.json);
  auto lock = AcquireDrLock(ctx, "backup expire", progress);
  if (!lock.ok()) return FailCommand(ctx, lock.status());
  auto engine = MakeBackupEngine(c);
  if (!engine.ok()) return FailCommand(ctx, engine.status());
  auto before = (*engine)->List(BackupCommandTimeout(c));
  if (!before.ok()) return FailCommand(ctx, before.status());
  progress.Step("applying retention: full backups kept " +
                std::to_string(c.backup.retention_full_days) + " days");
  Status s = (*engine)->Expire(BackupCommandTimeout(c));
  if (!s.ok()) return FailCommand(ctx, s);
  auto after = (*engine)->List(BackupCommandTimeout(c));
  if (!after.ok()) return FailCommand(ctx, after.status());
  size_t removed = before->backups.size() - std::min(before->backups.size(), after->backups.size());
  if (ctx.json) {
    std::printf("%s\n", json({{"ok", true}, {"removed", removed}, {"kept", after->backups.size()}})
                            .dump(2)
                            .c_str());
  } else {
    std::printf("expired %zu backups; %zu kept\n", removed, after->backups.size());
  }
  return kExitOk;
}

int RunBackupVerify(const CliContext& ctx, const BackupVerifyOptions& options) {
  const Config& c = ctx.config;
  dr::Progress progress(ctx.json);
  auto lock = AcquireDrLock(ctx, "backup verify", progress);
  if (!lock.ok()) return FailCommand(ctx, lock.status());
  auto engine = MakeBackupEngine(c);
  if (!engine.ok()) return FailCommand(ctx, engine.status());
  auto catalog = (*engine)->List(BackupCommandTimeout(c));
  if (!catalog.ok()) return FailCommand(ctx, catalog.status());
  // Which backups: the one named (in every repository holding it, or --repo), or the newest of
  // each repository (--latest, the default).
  std::vector<dr::BackupRecord> chosen;
  auto paths = c.BackupRepoPaths();
  for (int repo = 1; repo <= static_cast<int>(paths.size()); ++repo) {
    if (options.repo != 0 && repo != options.repo) continue;
    const dr::BackupRecord* pick = nullptr;
    for (const auto& b : catalog->backups) {
      if (b.repo != repo) continue;
      if (!options.id.empty() ? b.id == options.id : true) pick = &b;
    }
    if (pick) chosen.push_back(*pick);
  }
  if (chosen.empty()) {
    return FailCommand(
        ctx, options.id.empty()
                 ? FailedPrecondition("no backup to verify", "take one with `auri backup create`")
                 : InvalidArgument("no backup with id '" + options.id + "'",
                                   "list them with `auri backup list`"));
  }
  json results = json::array();
  bool all_passed = true;
  for (const auto& b : chosen) {
    progress.Step("verifying backup " + b.id + " from repo" + std::to_string(b.repo));
    auto record = dr::VerifyBackup(**engine, b, paths[b.repo - 1], BaseRestoreOptions(c), progress);
    if (!record.ok()) return FailCommand(ctx, record.status());
    all_passed = all_passed && record->state == "passed";
    results.push_back({{"id", record->backup_id},
                       {"repo", record->repo},
                       {"state", record->state},
                       {"seconds", record->seconds},
                       {"detail", record->detail}});
    if (!ctx.json) {
      std::printf("backup %s repo%d: verification %s (%.1f s)%s%s\n", record->backup_id.c_str(),
                  record->repo, record->state == "passed" ? "PASSED" : "FAILED", record->seconds,
                  record->detail.empty() ? "" : ": ", record->detail.c_str());
    }
  }
  if (ctx.json) {
    std::printf("%s\n", json({{"ok", all_passed}, {"verifications", results}}).dump(2).c_str());
  }
  if (!all_passed) {
    std::fprintf(stderr,
                 "auri: backup verification failed\nhint: do not rely on the failed "
                 "backup; take a new one with `auri backup create`\n");
    return kExitCheckFailed;
  }
  return kExitOk;
}

int RunRestore(const CliContext& ctx, const RestoreCliOptions& options) {
  const Config& c = ctx.config;
  dr::Progress progress(ctx.json);
  int targets = (!options.backup_id.empty()) + (!options.time.empty()) + options.latest;
  if (targets > 1) {
    return FailCommand(ctx, InvalidArgument("give at most one of --backup, --time, --latest"));
  }
  if (options.in_place && !options.force) {
    return FailCommand(
        ctx, FailedPrecondition(
                 "refusing to restore in place over the deployment's data directory",
                 "restore into a new instance with --as NAME (the default; add --switch to move "
                 "the services to it), or add --force to stop PostgreSQL and replace its data "
                 "directory (the old one is kept aside)"));
  }
  if (options.in_place && options.switch_services) {
    return FailCommand(ctx, InvalidArgument("--switch and --in-place exclude each other",
                                            "--in-place already restores the services' database"));
  }
  dr::RestoreTarget target;
  if (!options.backup_id.empty()) {
    target = {dr::RestoreTarget::Kind::kBackup, options.backup_id, 0};
  } else if (!options.time.empty()) {
    auto t = dr::ParseRfc3339(options.time);
    if (!t.ok()) return FailCommand(ctx, t.status());
    target = {dr::RestoreTarget::Kind::kTime, "", *t};
  }
  if (options.in_place) return RunRestoreInPlace(ctx, options, target);
  if (options.name.empty()) return FailCommand(ctx, InvalidArgument("--as NAME is required"));
  if (options.switch_services) {
    Status possible = CheckSwitchPossible(c);
    if (!possible.ok()) return FailCommand(ctx, possible);
  }
  dr::RestoreOptions o = BaseRestoreOptions(c);
  o.name = options.name;
  o.port = options.port;
  o.repo = options.repo;
  o.target = target;
  if (options.switch_services) o.server_settings = SwitchCandidateSettings(c);
  auto lock = AcquireDrLock(ctx, "restore", progress);
  if (!lock.ok()) return FailCommand(ctx, lock.status());
  auto engine = MakeBackupEngine(c);
  if (!engine.ok()) return FailCommand(ctx, engine.status());
  auto restored = dr::RestoreToNewInstance(**engine, o, progress);
  if (!restored.ok()) return FailCommand(ctx, restored.status());
  bool passed = restored->checks.Passed();
  json doc = {{"ok", passed},
              {"name", restored->name},
              {"target", restored->target},
              {"port", restored->port},
              {"dsn", restored->dsn},
              {"data_dir", restored->data_dir},
              {"restore_seconds", restored->restore_seconds},
              {"recovery_seconds", restored->recovery_seconds},
              {"integrity", IntegrityJson(restored->checks)}};
  if (!ctx.json) std::fputs(dr::RenderIntegrityReport(restored->checks).c_str(), stdout);
  if (!passed) {
    doc["total_seconds"] = progress.Seconds();
    if (ctx.json) std::printf("%s\n", doc.dump(2).c_str());
    std::fprintf(stderr, "auri: integrity checks failed on the restored instance%s\n",
                 options.switch_services ? "; the services were NOT switched" : "");
    return kExitCheckFailed;
  }
  int rc = kExitOk;
  if (options.switch_services) rc = SwitchServicesToRestored(ctx, *restored, progress, &doc);
  doc["total_seconds"] = progress.Seconds();
  if (ctx.json) {
    doc["ok"] = rc == kExitOk;
    std::printf("%s\n", doc.dump(2).c_str());
  } else if (options.switch_services) {
    std::printf("\nrestored instance '%s' (%s) is the stack's database now (%.1f s in all)\n",
                restored->name.c_str(), restored->target.c_str(), progress.Seconds());
  } else {
    std::printf(
        "\nrestored instance '%s' (%s) in %.1f s\nendpoint: %s\nremove: auri instance "
        "remove %s\n",
        restored->name.c_str(), restored->target.c_str(), progress.Seconds(), restored->dsn.c_str(),
        restored->name.c_str());
  }
  return rc;
}

int RunDrCheck(const CliContext& ctx, const std::string& dsn) {
  const Config& c = ctx.config;
  dr::IntegrityOptions o;
  o.dsn = dsn.empty() ? c.DatabaseDsn() : dsn;
  o.pg_bin_dir = c.postgres.bin_dir;
  auto report = dr::RunIntegrityChecks(o);
  if (!report.ok()) return FailCommand(ctx, report.status());
  if (ctx.json) {
    std::printf("%s\n", IntegrityJson(*report).dump(2).c_str());
  } else {
    std::fputs(dr::RenderIntegrityReport(*report).c_str(), stdout);
    std::printf("%s\n", report->Passed() ? "all checks passed" : "CHECKS FAILED");
  }
  return report->Passed() ? kExitOk : kExitCheckFailed;
}

int RunInstanceRemove(const CliContext& ctx, const std::string& name) {
  const Config& c = ctx.config;
  if (!name.empty() && name == c.postgres.active_instance) {
    return FailCommand(
        ctx, FailedPrecondition("refusing to remove instance '" + name +
                                    "': it is the stack's database since `auri restore --switch`",
                                "switch to another instance first, or stop the stack"));
  }
  Status s = dr::RemoveInstance(c.InstancesDir(), name, c.postgres.bin_dir, c.postgres.run_as,
                                seconds(60));
  if (!s.ok()) return FailCommand(ctx, s);
  if (!ctx.json) std::printf("instance '%s' removed\n", name.c_str());
  return kExitOk;
}

}  // namespace auri
