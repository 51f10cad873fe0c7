#include "dr/agent/dr_agent.h"

#include <thread>

#include "dr/dr_lock.h"
#include "dr/progress.h"
#include "dr/verify/verify_backup.h"

namespace auri::dr {
namespace {

using std::chrono::milliseconds;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double AgeSeconds(int64_t unix_seconds) {
  return unix_seconds > 0 ? NowUs() / 1e6 - static_cast<double>(unix_seconds) : -1.0;
}

}  // namespace

DrAgent::DrAgent(BackupEngine& engine, DrAgentOptions options, const Logger& log,
                 MetricsRegistry& metrics)
    : engine_(engine), options_(std::move(options)), log_(log), metrics_(metrics) {
  snapshot_.activity = "idle";
  RegisterMetrics();
}

DrAgent::Snapshot DrAgent::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

void DrAgent::SetActivity(const std::string& activity) {
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_.activity = activity;
}

void DrAgent::RegisterMetrics() {
  backups_total_ =
      metrics_.AddCounter("auri_dr_scheduled_backups_total",
                          "Backups the dr-agent took, by type and result.", {"type", "result"});
  verifications_total_ =
      metrics_.AddCounter("auri_dr_verifications_total",
                          "Verifications of new backups by the dr-agent, by result.", {"result"});
  // Each gauge reads the newest status; ages are computed at scrape time.
  auto with_status = [this](std::function<double(const DrStatus&)> f) {
    return [this, f]() -> double {
      std::lock_guard<std::mutex> lock(mu_);
      return snapshot_.status ? f(*snapshot_.status) : -1.0;
    };
  };
  metrics_.AddGauge("auri_dr_backups", "Backups in the repositories (all repositories).",
                    with_status([](const DrStatus& s) { return static_cast<double>(s.backups); }));
  metrics_.AddGauge("auri_dr_last_backup_age_seconds",
                    "Seconds since the newest backup ended (-1: none).",
                    with_status([](const DrStatus& s) { return AgeSeconds(s.newest.stop_unix); }));
  metrics_.AddGauge(
      "auri_dr_last_verified_backup_age_seconds",
      "Seconds since the newest backup with a passed verification ended (-1: none).",
      with_status([](const DrStatus& s) { return AgeSeconds(s.newest_verified.stop_unix); }));
  metrics_.AddGauge(
      "auri_dr_failed_verifications", "Backups whose latest verification failed.",
      with_status([](const DrStatus& s) { return static_cast<double>(s.failed_verifications); }));
  auto per_repo = [this](double (*value)(const RepositoryLag&)) {
    return [this, value]() {
      MetricsRegistry::LabelledValues out;
      std::lock_guard<std::mutex> lock(mu_);
      if (!snapshot_.status) return out;
      for (const auto& r : snapshot_.status->repositories) {
        out.push_back({{std::to_string(r.repo)}, value(r)});
      }
      return out;
    };
  };
  metrics_.AddGaugeFamily(
      "auri_dr_wal_archive_lag_bytes",
      "WAL written by the primary and not yet in the repository (RPO "
      "exposure in bytes; -1 unknown).",
      {"repo"}, per_repo([](const RepositoryLag& r) { return static_cast<double>(r.lag_bytes); }));
  metrics_.AddGaugeFamily("auri_dr_wal_archive_lag_seconds",
                          "Age of the oldest commit the repository does not hold (RPO exposure "
                          "in time; 0 none; -1 unknown; an upper bound when "
                          "auri_dr_wal_archive_lag_seconds_is_bound is 1).",
                          {"repo"}, per_repo([](const RepositoryLag& r) { return r.lag_seconds; }));
  metrics_.AddGaugeFamily(
      "auri_dr_wal_archive_lag_seconds_is_bound",
      "1 when auri_dr_wal_archive_lag_seconds is an upper bound (the commit scan could not tell; "
      "see auri dr status).",
      {"repo"},
      per_repo([](const RepositoryLag& r) { return r.lag_seconds_is_bound ? 1.0 : 0.0; }));
  metrics_.AddGauge("auri_dr_archiving_failing",
                    "1 when the primary's last archive attempt failed.",
                    with_status([](const DrStatus& s) { return s.archiving_failing ? 1.0 : 0.0; }));
  metrics_.AddGauge("auri_dr_restorable_window_earliest_timestamp_seconds",
                    "Earliest time a restore can reach (unix seconds; -1: no backup).",
                    with_status([](const DrStatus& s) {
                      return s.window.empty ? -1.0 : s.window.earliest_us / 1e6;
                    }));
  metrics_.AddGauge("auri_dr_restorable_window_latest_timestamp_seconds",
                    "Latest time a restore can reach (unix seconds; -1: no backup).",
                    with_status([](const DrStatus& s) {
                      return s.window.empty ? -1.0 : s.window.latest_us / 1e6;
                    }));
  metrics_.AddGauge("auri_dr_restore_rate_bytes_per_second",
                    "Restore rate measured by the newest verification (-1: none yet).",
                    with_status([](const DrStatus& s) { return s.restore_bytes_per_second; }));
  metrics_.AddGauge("auri_dr_replay_rate_bytes_per_second",
                    "WAL replay rate measured by the newest verification (-1: none yet).",
                    with_status([](const DrStatus& s) { return s.replay_bytes_per_second; }));
  metrics_.AddGauge(
      "auri_dr_wal_since_backup_bytes",
      "WAL a restore of the newest backup would replay to reach now.",
      with_status([](const DrStatus& s) { return static_cast<double>(s.wal_since_backup_bytes); }));
  metrics_.AddGauge("auri_dr_predicted_rto_seconds",
                    "Newest backup size / restore rate + WAL since it / replay rate (-1: not "
                    "measured yet).",
                    with_status([](const DrStatus& s) { return s.predicted_rto_seconds; }));
  // The newest drill of each kind (-1: never run / not measured), for "drill overdue" alerts.
  auto per_drill = [this](std::function<double(const LastDrill&)> f) {
    return [this, f]() {
      MetricsRegistry::LabelledValues out;
      std::lock_guard<std::mutex> lock(mu_);
      if (!snapshot_.status) return out;
      for (const auto& d : snapshot_.status->drills) out.push_back({{d.drill}, f(d)});
      return out;
    };
  };
  metrics_.AddGaugeFamily(
      "auri_dr_drill_last_run_timestamp_seconds",
      "When the newest drill of this kind started (unix seconds; -1: never run).", {"drill"},
      per_drill([](const LastDrill& d) {
        return d.last ? static_cast<double>(DrillTimeUnix(d.last->started_at)) : -1.0;
      }));
  metrics_.AddGaugeFamily(
      "auri_dr_drill_last_passed",
      "1 when the newest drill of this kind passed, 0 failed, -1 never run.", {"drill"},
      per_drill([](const LastDrill& d) { return d.last ? (d.last->passed ? 1.0 : 0.0) : -1.0; }));
  metrics_.AddGaugeFamily("auri_dr_drill_last_rto_seconds",
                          "RTO measured by the newest drill of this kind (-1: none).", {"drill"},
                          per_drill([](const LastDrill& d) {
                            return d.last && d.last->rto_seconds ? *d.last->rto_seconds : -1.0;
                          }));
  metrics_.AddGaugeFamily("auri_dr_drill_last_rpo_seconds",
                          "RPO measured by the newest drill of this kind (-1: none).", {"drill"},
                          per_drill([](const LastDrill& d) {
                            return d.last && d.last->rpo_seconds ? *d.last->rpo_seconds : -1.0;
                          }));
  metrics_.AddGaugeFamily(
      "auri_dr_drill_overdue",
      "1 when this kind never ran or its newest run is older than the seed's schedule.", {"drill"},
      per_drill([](const LastDrill& d) { return d.overdue ? 1.0 : 0.0; }));
  metrics_.AddGauge("auri_dr_status_age_seconds", "Seconds since the DR status was refreshed.",
                    [this]() -> double {
                      std::lock_guard<std::mutex> lock(mu_);
                      return snapshot_.status_at_unix_us > 0
                                 ? (NowUs() - snapshot_.status_at_unix_us) / 1e6
                                 : -1.0;
                    });
}

void DrAgent::RefreshStatus() {
  auto status = CollectDrStatus(engine_, options_.status);
  if (!status.ok()) {
    log_.Warn("refreshing the DR status failed", {{"error", status.status().ToString()}});
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_.status = std::move(status).value();
  snapshot_.status_at_unix_us = NowUs();
}

// When each type is next due (see the header): the first firing after the newest backup of that
// type, or after the start when there is none.
void DrAgent::Plan(int64_t start_unix) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t full_ref = start_unix, incr_ref = start_unix;
  if (snapshot_.status) {
    const DrStatus& s = *snapshot_.status;
    if (s.newest_full_stop_unix > 0) full_ref = s.newest_full_stop_unix;
    int64_t any = std::max(s.newest_full_stop_unix, s.newest_incr_stop_unix);
    if (any > 0) incr_ref = any;
  }
  snapshot_.next_full_unix = options_.full_schedule.Next(full_ref).value_or(0);
  snapshot_.next_incr_unix = options_.incr_schedule.Next(incr_ref).value_or(0);
}

void DrAgent::RunScheduled(BackupType type, int64_t now_unix) {
  const std::string type_name = BackupTypeName(type);
  if (DrLock::SomeoneWaits(options_.run_dir)) {
    // A manual DR command waits for the lock: it goes first.
    log_.Info("scheduled backup postponed: a DR command waits for the lock", {{"type", type_name}});
    retry_at_unix_ = now_unix + options_.lock_retry.count() / 1000;
    return;
  }
  auto lock = DrLock::Acquire(options_.run_dir, std::string("dr-agent ") + type_name + " backup");
  if (!lock.ok()) {
    log_.Info("scheduled backup postponed: another DR command runs",
              {{"type", type_name}, {"holder", lock.status().message()}});
    retry_at_unix_ = now_unix + options_.lock_retry.count() / 1000;
    return;
  }
  Progress progress(options_.progress_out);
  std::string error;
  std::vector<BackupRecord> taken;
  SetActivity("backing up");
  for (int repo = 1; repo <= static_cast<int>(options_.repo_paths.size()) && !stop_.load();
       ++repo) {
    auto t0 = std::chrono::steady_clock::now();
    auto record = engine_.CreateBackup(type, "scheduled", repo, options_.command_timeout);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!record.ok()) {
      error = record.status().ToString();
      backups_total_->Inc({type_name, "failed"});
      log_.Error("scheduled backup failed",
                 {{"type", type_name}, {"repo", repo}, {"error", error}});
      continue;
    }
    backups_total_->Inc({record->type, "ok"});
    log_.Info("scheduled backup taken", {{"id", record->id},
                                         {"type", record->type},
                                         {"repo", repo},
                                         {"size_bytes", record->size_bytes},
                                         {"seconds", secs}});
    taken.push_back(*record);
  }
  if (options_.verify) {
    SetActivity("verifying");
    for (const BackupRecord& b : taken) {
      if (stop_.load()) break;
      auto verdict =
          VerifyBackup(engine_, b, options_.repo_paths[b.repo - 1], options_.scratch, progress);
      if (!verdict.ok()) {
        verifications_total_->Inc({"error"});
        error = verdict.status().ToString();
        log_.Error("verification could not run", {{"id", b.id}, {"error", error}});
        continue;
      }
      verifications_total_->Inc({verdict->state});
      if (verdict->state != "passed") error = "verification of " + b.id + " failed";
      log_.Info("backup verified", {{"id", b.id},
                                    {"repo", b.repo},
                                    {"state", verdict->state},
                                    {"seconds", verdict->seconds},
                                    {"restore_seconds", verdict->restore_seconds},
                                    {"recovery_seconds", verdict->recovery_seconds},
                                    {"detail", verdict->detail}});
    }
  }
  if (!taken.empty() && !stop_.load()) {
    SetActivity("expiring");
    Status expired = engine_.Expire(options_.command_timeout);
    if (!expired.ok()) log_.Warn("retention failed", {{"error", expired.ToString()}});
  }
  SetActivity("idle");
  if (!error.empty()) retry_at_unix_ = now_unix + options_.failure_retry.count() / 1000;
  std::lock_guard<std::mutex> guard(mu_);
  snapshot_.last_error = error;
}

void DrAgent::Run() {
  const int64_t start_unix = NowUs() / 1000000;
  log_.Info("dr-agent running", {{"full_schedule", options_.full_schedule.text()},
                                 {"incr_schedule", options_.incr_schedule.text()},
                                 {"verify", options_.verify}});
  RefreshStatus();
  Plan(start_unix);
  auto next_status = std::chrono::steady_clock::now() + options_.status_interval;
  while (!stop_.load()) {
    int64_t now = NowUs() / 1000000;
    Snapshot s = Current();
    std::optional<BackupType> due;
    if (now >= retry_at_unix_) {
      if (s.next_full_unix > 0 && now >= s.next_full_unix) {
        due = BackupType::kFull;  // a full backup also serves a due incremental
      } else if (s.next_incr_unix > 0 && now >= s.next_incr_unix) {
        due = BackupType::kIncr;
      }
    }
    if (due) {
      RunScheduled(*due, now);
      RefreshStatus();
      Plan(start_unix);
      next_status = std::chrono::steady_clock::now() + options_.status_interval;
      continue;
    }
    if (std::chrono::steady_clock::now() >= next_status) {
      RefreshStatus();
      Plan(start_unix);  // a manual backup moves the next run
      next_status = std::chrono::steady_clock::now() + options_.status_interval;
    }
    for (int i = 0; i < 5 && !stop_.load(); ++i) std::this_thread::sleep_for(milliseconds(200));
  }
  log_.Info("dr-agent stopped");
}

}  // namespace auri::dr
