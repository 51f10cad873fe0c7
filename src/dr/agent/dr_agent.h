#pragma once
// DrAgent: the dr-agent role's loop (spec 40-dr.md: "Schedule: full daily, incremental hourly,
// run by the dr-agent role"; "Backup verification: every backup restored and verified
// automatically"). Once a second it looks at the clock:
//
//   - a backup type is due when its schedule fired since the newest backup of that type (for
//     incremental: of any type), or since the agent started when there is none; a time missed
//     while the agent was down is therefore caught up once, and a manual backup counts;
//   - when due: take the DR lock without waiting (a manual DR command holding it makes the agent
//     try again 10 s later; the two never overlap), back up into every repository, verify every
//     new backup in a scratch instance (which measures the restore and replay rates), apply
//     retention, release the lock; a failure is retried after a minute;
//   - every status interval: refresh the DR status (dr/status) behind the metrics.
//
// Metrics (registered on the given registry at construction, read at scrape time):
//   auri_dr_backups, auri_dr_last_backup_age_seconds, auri_dr_last_verified_backup_age_seconds,
//   auri_dr_failed_verifications, auri_dr_wal_archive_lag_seconds{repo},
//   auri_dr_wal_archive_lag_bytes{repo}, auri_dr_archiving_failing,
//   auri_dr_restorable_window_earliest_timestamp_seconds, ..._latest_timestamp_seconds,
//   auri_dr_restore_rate_bytes_per_second, auri_dr_replay_rate_bytes_per_second,
//   auri_dr_wal_since_backup_bytes, auri_dr_predicted_rto_seconds, auri_dr_status_age_seconds,
//   auri_dr_scheduled_backups_total{type,result}, auri_dr_verifications_total{result}.
// Unknown values are -1.
//
// Thread-safety: Run() on one thread; RequestStop(), Snapshot() and the metrics from any thread.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/metrics.h"
#include "dr/agent/schedule.h"
#include "dr/backup_engine.h"
#include "dr/restore/restore_instance.h"
#include "dr/status/dr_status.h"

namespace auri::dr {

struct DrAgentOptions {
  Schedule full_schedule;
  Schedule incr_schedule;
  bool verify = true;                   // verify every backup taken
  std::string run_dir;                  // where the DR lock lives
  std::vector<std::string> repo_paths;  // repo1, repo2
  RestoreOptions scratch;               // settings of the verification's scratch instances
  DrStatusOptions status;
  std::chrono::milliseconds command_timeout{3600000};
  std::chrono::milliseconds status_interval{15000};
  std::chrono::milliseconds lock_retry{10000};
  std::chrono::milliseconds failure_retry{60000};
  std::FILE* progress_out = nullptr;  // step lines of backups/verifications (the role's log)
};

class DrAgent {
 public:
  // `engine`, `log` and `metrics` are not owned and must outlive the agent.
  DrAgent(BackupEngine& engine, DrAgentOptions options, const Logger& log,
          MetricsRegistry& metrics);

  // Runs until RequestStop(). A backup or verification in progress finishes first.
  void Run();
  void RequestStop() { stop_.store(true); }

  struct Snapshot {
    std::optional<DrStatus> status;  // newest refresh; empty before the first one
    int64_t status_at_unix_us = 0;
    std::string activity;        // "idle" | "backing up" | "verifying" | "expiring"
    int64_t next_full_unix = 0;  // 0 = never
    int64_t next_incr_unix = 0;
    std::string last_error;  // of the last scheduled run, empty when it succeeded
  };
  Snapshot Current() const;

 private:
  void RefreshStatus();
  void RunScheduled(BackupType type, int64_t now_unix);
  void Plan(int64_t start_unix);
  void SetActivity(const std::string& activity);
  void RegisterMetrics();

  BackupEngine& engine_;
  DrAgentOptions options_;
  const Logger& log_;
  MetricsRegistry& metrics_;
  CounterFamily* backups_total_ = nullptr;
  CounterFamily* verifications_total_ = nullptr;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  Snapshot snapshot_;
  int64_t retry_at_unix_ = 0;  // after a failure or a busy lock, nothing before this
};

}  // namespace auri::dr
