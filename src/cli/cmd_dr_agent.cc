// `auri dr-agent` (the role `auri up` runs) and `auri dr status`. Both show the same numbers
// (dr/status/dr_status.h): the agent exports them on /metrics, `dr status` prints them.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/health.h"
#include "api/http.h"
#include "api/router.h"
#include "api/server.h"
#include "cli/backup_wiring.h"
#include "cli/exit_codes.h"
#include "cli/role_runtime.h"
#include "common/metrics.h"
#include "common/version.h"
#include "dr/agent/dr_agent.h"
#include "dr/status/dr_status.h"

namespace auri {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

dr::DrStatusOptions StatusOptions(const Config& c) {
  dr::DrStatusOptions o;
  o.repo_paths = c.BackupRepoPaths();
  o.stanza = c.backup.stanza;
  o.admin_dsn = c.AdminDsn();
  o.timeout = seconds(60);
  return o;
}

std::string Rfc3339OrDash(int64_t unix_seconds) {
  return unix_seconds > 0 ? dr::FormatRfc3339(unix_seconds * 1000000).substr(0, 19) + "Z" : "-";
}

json StatusJson(const dr::DrStatus& s) {
  json repos = json::array();
  for (const auto& r : s.repositories) {
    repos.push_back({{"repo", r.repo},
                     {"path", r.path},
                     {"ok", r.ok},
                     {"status", r.message},
                     {"wal_max", r.wal_max},
                     {"wal_lag_bytes", r.lag_bytes},
                     {"wal_lag_seconds", r.lag_seconds},
                     {"wal_lag_seconds_is_bound", r.lag_seconds_is_bound}});
  }
  json archiving = nullptr;
  if (s.primary_reachable) {
    archiving = {{"last_archived_wal", s.last_archived_wal},
                 {"current_wal", s.current_wal},
                 {"seconds_since_last_archive", s.seconds_since_last_archive},
                 {"failed_count", s.archive_failed_count},
                 {"failing", s.archiving_failing}};
  }
  json drills = json::array();
  for (const auto& d : s.drills) {
    json last = nullptr;
    if (d.last) {
      last = {{"id", d.last->id},
              {"started_at", d.last->started_at},
              {"target", d.last->target},
              {"passed", d.last->passed},
              {"rto_seconds", d.last->rto_seconds ? json(*d.last->rto_seconds) : json(nullptr)},
              {"rpo_seconds", d.last->rpo_seconds ? json(*d.last->rpo_seconds) : json(nullptr)},
              {"notes", d.last->notes}};
    }
    drills.push_back(
        {{"drill", d.drill}, {"frequency", d.frequency}, {"overdue", d.overdue}, {"last", last}});
  }
  json window = nullptr;
  if (!s.window.empty) {
    window = {{"earliest", dr::FormatRfc3339(s.window.earliest_us)},
              {"latest", dr::FormatRfc3339(s.window.latest_us)}};
  }
  return {{"backups", s.backups},
          {"last_backup", s.newest.id},
          {"seconds_since_last_backup", s.seconds_since_last_backup},
          {"last_verified_backup", s.newest_verified.id},
          {"last_verified_at", s.last_verified_at},
          {"seconds_since_last_verified_backup", s.seconds_since_last_verified_backup},
          {"failed_verifications", s.failed_verifications},
          {"archiving", archiving},
          {"repositories", repos},
          {"restorable_window", window},
          {"restore_bytes_per_second", s.restore_bytes_per_second},
          {"replay_bytes_per_second", s.replay_bytes_per_second},
          {"measured_recovery_seconds", s.measured_recovery_seconds},
          {"last_commit",
           s.last_commit_unix_us > 0 ? dr::FormatRfc3339(s.last_commit_unix_us) : std::string()},
          {"commit_scan_note", s.commit_scan_note},
          {"wal_since_backup_bytes", s.wal_since_backup_bytes},
          {"predicted_rto_seconds", s.predicted_rto_seconds},
          {"drills", drills},
          {"drill_log_error", s.drill_log_error}};
}

std::string Seconds(double s) {
  if (s < 0) return "unknown";
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.1f s" : "%.0f s", s);
  return buf;
}

std::string Rate(double bytes_per_second) {
  if (bytes_per_second < 0) return "not measured yet";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB/s", bytes_per_second / 1e6);
  return buf;
}

void PrintStatus(const dr::DrStatus& s) {
  if (s.newest.id.empty()) {
    std::printf("last backup:          none (take one: auri backup create)\n");
  } else {
    std::printf("last backup:          %s (%s, repo%d) ended %s ago; %zu backups\n",
                s.newest.id.c_str(), s.newest.type.c_str(), s.newest.repo,
                Seconds(s.seconds_since_last_backup).c_str(), s.backups);
  }
  if (s.newest_verified.id.empty()) {
    std::printf("last verified backup: none\n");
  } else {
    std::printf("last verified backup: %s ended %s ago (verified %s)\n",
                s.newest_verified.id.c_str(), Seconds(s.seconds_since_last_verified_backup).c_str(),
                s.last_verified_at.substr(0, 19).c_str());
  }
  if (s.failed_verifications > 0) {
    std::printf("FAILED verifications: %d backups (see auri backup list)\n",
                s.failed_verifications);
  }
  if (!s.primary_reachable) {
    std::printf("archiving:            unknown (primary not reachable)\n");
  } else {
    std::printf("archiving:            %s; last archived %s, %s ago; current %s\n",
                s.archiving_failing ? "FAILING" : "ok", s.last_archived_wal.c_str(),
                Seconds(s.seconds_since_last_archive).c_str(), s.current_wal.c_str());
  }
  for (const auto& r : s.repositories) {
    std::string lag = r.lag_bytes < 0
                          ? "lag unknown"
                          : "WAL lag " + std::to_string(r.lag_bytes) + " bytes, " + "exposure " +
                                (r.lag_seconds_is_bound ? "at most " : "") + Seconds(r.lag_seconds);
    std::printf("repo%d:                %s; newest WAL %s; %s\n", r.repo, r.message.c_str(),
                r.wal_max.empty() ? "-" : r.wal_max.c_str(), lag.c_str());
  }
  if (!s.commit_scan_note.empty()) {
    std::printf("lag in seconds:       an upper bound: %s\n", s.commit_scan_note.c_str());
  }
  std::printf("restorable window:    %s\n", s.window.empty
                                                ? "none"
                                                : (dr::FormatRfc3339(s.window.earliest_us) +
                                                   " .. " + dr::FormatRfc3339(s.window.latest_us))
                                                      .c_str());
  std::string replay = s.replay_bytes_per_second > 0
                           ? Rate(s.replay_bytes_per_second)
                           : "not measured yet, counted as the last start-to-writable " +
                                 Seconds(s.measured_recovery_seconds);
  std::printf("predicted RTO:        %s (restore %s, replay %s; %s of WAL since the backup)\n",
              Seconds(s.predicted_rto_seconds).c_str(), Rate(s.restore_bytes_per_second).c_str(),
              replay.c_str(),
              s.wal_since_backup_bytes < 0 ? "?" : HumanBytes(s.wal_since_backup_bytes).c_str());
  if (!s.drill_log_error.empty()) {
    std::printf("drills:               drill log unreadable: %s\n", s.drill_log_error.c_str());
  }
  if (!s.drills.empty()) std::printf("drills (newest run of each kind):\n");
  for (const auto& d : s.drills) {
    std::string line = "never run";
    if (d.last) {
      auto secs = [](const std::optional<double>& v) { return v ? Seconds(*v) : "-"; };
      line = std::string(d.last->passed ? "PASS" : "FAIL") + " " +
             d.last->started_at.substr(0, 19) + "Z, RTO " + secs(d.last->rto_seconds) + ", RPO " +
             secs(d.last->rpo_seconds);
    }
    if (d.overdue) line += " (overdue: " + d.frequency + ")";
    std::printf("  %-18s  %s\n", d.drill.c_str(), line.c_str());
  }
}

}  // namespace

int RunDrStatus(const CliContext& ctx) {
  const Config& c = ctx.config;
  auto engine = MakeBackupEngine(c);
  if (!engine.ok()) return FailCommand(ctx, engine.status());
  auto status = dr::CollectDrStatus(**engine, StatusOptions(c));
  if (!status.ok()) return FailCommand(ctx, status.status());
  if (ctx.json) {
    std::printf("%s\n", StatusJson(*status).dump(2).c_str());
  } else {
    PrintStatus(*status);
  }
  return kExitOk;
}

int RunDrAgent(const CliContext& ctx) {
  const Config& c = ctx.config;
  const sigset_t stop_signals = BlockStopSignals();  // before any thread starts

  auto full = dr::Schedule::Parse(c.backup.full_schedule);
  if (!full.ok()) return ReportFailure(full.status().WithContext("option backup.full_schedule"));
  auto incr = dr::Schedule::Parse(c.backup.incr_schedule);
  if (!incr.ok()) return ReportFailure(incr.status().WithContext("option backup.incr_schedule"));
  auto engine = MakeBackupEngine(c);
  if (!engine.ok()) return ReportFailure(engine.status());

  dr::DrAgentOptions options;
  options.full_schedule = *full;
  options.incr_schedule = *incr;
  options.verify = c.backup.verify_scheduled != 0;
  options.run_dir = c.RunDir();
  options.repo_paths = c.BackupRepoPaths();
  options.scratch = BaseRestoreOptions(c);
  options.status = StatusOptions(c);
  options.command_timeout = BackupCommandTimeout(c);
  options.status_interval = seconds(c.dr_agent.status_interval_seconds);
  options.progress_out = stderr;  // the role's log file
  MetricsRegistry metrics;
  dr::DrAgent agent(**engine, options, ctx.log, metrics);

  auto health = [&agent](const api::HttpRequest&) {
    dr::DrAgent::Snapshot s = agent.Current();
    json body = {{"status", "healthy"},
                 {"activity", s.activity},
                 {"next_full", Rfc3339OrDash(s.next_full_unix)},
                 {"next_incr", Rfc3339OrDash(s.next_incr_unix)},
                 {"last_error", s.last_error},
                 {"version", kVersion}};
    if (s.status) body["dr"] = StatusJson(*s.status);
    return api::JsonResponse(200, body.dump());
  };
  auto server = StartRoleEndpoint(c, c.dr_agent.host, c.dr_agent.metrics_port, ctx.log, metrics,
                                  health, "dr-agent health and DR status");
  if (!server.ok()) return ReportFailure(server.status());
  StopSignalWatcher stop(stop_signals, ctx.log, "stop requested",
                         [&agent] { agent.RequestStop(); });
  ctx.log.Info("dr-agent listening",
               {{"metrics", "http://" + c.dr_agent.host + ":" + std::to_string((*server)->port())},
                {"version", kVersion}});
  agent.Run();
  (void)(*server)->Stop(seconds(5));
  return kExitOk;
}

}  // namespace auri
