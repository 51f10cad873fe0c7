#pragma once
// CollectDrStatus: the numbers `auri dr status` prints and the dr-agent exports on /metrics (spec
// 40-dr.md, "DR status and alerts"): how old the newest backup and the newest verified backup
// are, how much WAL each repository is missing (the RPO exposure if the site were lost now), the
// restorable window, and the predicted RTO:
//
//   predicted RTO = newest backup size ÷ restore rate + WAL since that backup ÷ replay rate
//
// where both rates come from the newest verification that measured them (a verification restores
// a backup into a scratch instance, dr/verify). A replay rate needs a verification that replayed
// at least one WAL segment (below that the time is the server's start); until there is one, the
// replay term is the newest verification's start-to-writable time. Until a verification has run,
// the prediction is unknown (-1).
//
// Every "unknown" number is -1. One `pgbackrest info`, a few queries on the primary, a directory
// listing per repository: cheap enough to run every few seconds.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "dr/backup_engine.h"
#include "dr/drill/drill_log.h"
#include "dr/restore/restore_instance.h"

namespace auri::dr {

struct RepositoryLag {
  int repo = 0;
  std::string path;
  bool ok = false;
  std::string message;  // the engine's status of the repository
  std::string wal_max;  // newest WAL segment archived there
  // WAL the primary has written past the end of wal_max; -1 when the primary or the repository
  // cannot tell.
  int64_t lag_bytes = -1;
  // The RPO exposure in time: how old the oldest commit is that this repository does not hold
  // (now − commit time of the first COMMIT record after the end of wal_max, read from the
  // primary's WAL with pg_walinspect); 0 when lag_bytes is 0 or no commit follows wal_max (an idle
  // server keeps writing a few bytes of WAL that hold no data). -1 unknown.
  double lag_seconds = -1;
  // True when the commit scan could not tell (pg_walinspect missing or not permitted, or no commit
  // in the first kCommitScanCapBytes after wal_max): lag_seconds is then an upper bound — the
  // seconds since wal_max arrived in the repository when anything was committed after that, which
  // after a quiet period counts the quiet time too. DrStatus::commit_scan_note says why.
  bool lag_seconds_is_bound = false;
};

// The most WAL the commit scan reads after a repository's archived end (pg_walinspect in
// PostgreSQL 15 materializes every record of its range: ≈ 1 s per 16 MiB here).
inline constexpr int64_t kCommitScanCapBytes = 16 * 1024 * 1024;

struct DrStatus {
  int64_t now_unix_us = 0;
  size_t backups = 0;
  BackupRecord newest;  // newest backup (empty id when none)
  int64_t newest_full_stop_unix = 0;
  int64_t newest_incr_stop_unix = 0;  // newest diff or incr
  double seconds_since_last_backup = -1;
  BackupRecord newest_verified;                    // newest backup with a passed verification
  std::string last_verified_at;                    // when that verification ran
  double seconds_since_last_verified_backup = -1;  // age of newest_verified's end
  int failed_verifications = 0;                    // backups whose latest verification failed

  bool primary_reachable = false;
  std::string last_archived_wal;
  std::string current_wal;
  double seconds_since_last_archive = -1;
  int64_t archive_failed_count = 0;
  bool archiving_failing = false;
  // Newest commit on the primary: -1 not tracked (track_commit_timestamp off), 0 none known.
  int64_t last_commit_unix_us = -1;
  std::vector<RepositoryLag> repositories;
  // Empty when every repository's lag_seconds came from the commit scan; else why one is a bound.
  std::string commit_scan_note;
  RestorableWindow window;

  double restore_bytes_per_second = -1;
  double replay_bytes_per_second = -1;    // from a verification that replayed ≥ one WAL segment
  double measured_recovery_seconds = -1;  // start-to-writable of the newest verification
  int64_t wal_since_backup_bytes = -1;
  double predicted_rto_seconds = -1;

  // The newest drill of each kind, from the drill log in repo1 (`auri drill`); drill_log_error
  // is set (and drills empty) when the log exists but cannot be read.
  std::vector<LastDrill> drills;
  std::string drill_log_error;
};

struct DrStatusOptions {
  std::vector<std::string> repo_paths;  // repo1, repo2 (verification records, archive files)
  std::string stanza = "auri";
  std::string admin_dsn;  // the primary; unreachable is reported, not an error
  std::chrono::milliseconds timeout{60000};
};

// Errors: those of BackupEngine::List (the repositories cannot be read at all). Creates the
// pg_walinspect extension on the primary when it is missing (see EnsureCommitScanner); when that
// fails, the lag in seconds is reported as a bound.
Result<DrStatus> CollectDrStatus(BackupEngine& engine, const DrStatusOptions& options);

// CREATE EXTENSION IF NOT EXISTS pg_walinspect in the database of `admin_dsn` (the commit scan
// behind RepositoryLag::lag_seconds). Needs a superuser and a writable primary. Errors: those of
// ExecuteAdminSql (kUnavailable, or kInternal with the server's message).
Status EnsureCommitScanner(const std::string& admin_dsn);

}  // namespace auri::dr
