#pragma once
// RestoreInPlace: `auri restore --in-place --force` — the deployment's own data directory is
// replaced by a restore (seed Procedure 1 done on the same host, for when a second instance is not
// wanted). A linear script:
//
//   1. flush the running primary's WAL into the repositories (so "latest" means now);
//   2. check the target against the restorable window (nothing touched yet);
//   3. stop the stack's PostgreSQL — through the supervisor when the stack runs (a hold file +
//      SIGHUP, so it is not restarted; the services stay up and answer 503 meanwhile), with
//      pg_ctl otherwise;
//   4. move the data directory aside (<data>.before-restore-<UTC time>; kept, never deleted);
//   5. restore into a new, empty data directory; on failure the old one is put back;
//   6. start it — released to the supervisor, or with pg_ctl (and stopped again after the checks
//      when the stack is not running) — with archiving on: it is the primary, and its new
//      timeline must reach the repositories;
//   7. wait until recovery has ended, run the integrity checks.
#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "dr/backup_engine.h"
#include "dr/check/integrity_check.h"
#include "dr/progress.h"

namespace auri::dr {

struct InPlaceOptions {
  RestoreTarget target;
  int repo = 0;            // 0 = the engine chooses
  std::string data_dir;    // the stack's data directory (replaced)
  std::string socket_dir;  // its unix-socket directory
  std::string log_file;    // server log when this command starts the server itself
  std::string host = "127.0.0.1";
  int port = 0;
  std::string pg_bin_dir = "/usr/lib/postgresql/15/bin";
  std::string run_as = "postgres";
  std::string superuser = "postgres";
  std::string database = "auri";
  std::string run_dir;  // the supervisor's run directory (stack.json, postgres.hold)
  // `-c name=value` settings when this command starts the server itself (the stack's archiving
  // settings; values may contain spaces).
  std::vector<std::string> server_settings;
  std::chrono::milliseconds restore_timeout{3600000};
  std::chrono::milliseconds ready_timeout{300000};
  std::chrono::milliseconds stop_timeout{60000};
};

struct InPlaceResult {
  std::string target;       // for people: "latest", "backup X", "time T"
  std::string moved_aside;  // where the replaced data directory now is
  bool supervised = false;  // the running supervisor stopped and restarted PostgreSQL
  std::string dsn;          // the Auri database
  double restore_seconds = 0;
  double recovery_seconds = 0;
  double outage_seconds = 0;  // PostgreSQL stopped until writable again
  IntegrityReport checks;
};

// Errors: those of CheckRestoreTarget (nothing touched); kUnavailable / kDeadlineExceeded when
// stopping, restoring or starting fails (after a failed restore the old data directory is back
// in place and PostgreSQL is released). Failed integrity checks are returned normally.
Result<InPlaceResult> RestoreInPlace(BackupEngine& engine, const InPlaceOptions& options,
                                     const Progress& progress);

}  // namespace auri::dr
