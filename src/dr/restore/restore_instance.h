#pragma once
// RestoreToNewInstance: seed Procedures 1–2 as one linear script — check the target against the
// restorable window, flush WAL from the running primary, restore into a new directory, start a
// PostgreSQL there, wait until recovery has ended, run the integrity checks. The instance keeps
// running afterwards (it is the product of the command); RemoveInstance stops and deletes one.
//
// Layout of an instance: <instances_dir>/<name>/{data,run,log/postgres.log,instance.json}, owned
// by the server user.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "dr/backup_engine.h"
#include "dr/check/integrity_check.h"
#include "dr/progress.h"

namespace auri::dr {

// The times a time-target restore can reach, in microseconds since the epoch.
struct RestorableWindow {
  bool empty = true;        // no backup yet: nothing is restorable
  int64_t earliest_us = 0;  // the end of the oldest backup
  int64_t latest_us = 0;    // the newest WAL known to be archived (or the newest backup's end)
};

// earliest = end of the oldest backup (rounded up to the next second: pgBackRest stores whole
// seconds); latest = `latest_archived_us` when known (> 0), else the end of the newest backup.
RestorableWindow ComputeWindow(const BackupCatalog& catalog, int64_t latest_archived_us);

// "2026-11-26T00:38:19.052465Z" (RFC 3339, UTC, microseconds).
std::string FormatRfc3339(int64_t unix_us);
// Parses RFC 3339 ("2025-12-28T10:00:00Z", fractions and ±hh:mm offsets allowed).
// Errors: kInvalidArgument quoting the text.
Result<int64_t> ParseRfc3339(const std::string& text);

struct PrimaryEndpoint {
  std::string admin_dsn;  // superuser DSN of the running primary; empty = not running
};

// Makes every commit up to now restorable: one commit (so a time target has a commit after it,
// which recovery needs to know it has passed the target), a WAL switch, then a bounded wait until
// the archiver reports the switched segment archived. Returns the archive time (unix us).
Result<int64_t> FlushWalToRepositories(const std::string& admin_dsn,
                                       std::chrono::milliseconds timeout);

// The newest archive time the primary reports (pg_stat_archiver), or 0 when unknown.
int64_t LastArchivedTime(const std::string& admin_dsn);

struct RestoreOptions {
  std::string name;  // [a-z0-9_-]{1,63}
  RestoreTarget target;
  int repo = 0;  // 0 = the engine chooses
  int port = 0;  // 0 = a free port
  std::string instances_dir;
  std::string host = "127.0.0.1";
  std::string pg_bin_dir = "/usr/lib/postgresql/15/bin";
  std::string run_as = "postgres";
  std::string superuser = "postgres";
  std::string database = "auri";  // the database the integrity checks inspect
  std::string primary_admin_dsn;  // flush WAL first when set and the primary answers
  bool run_checks = true;
  // Extra `-c name=value` settings for the restored server, after the default archive_mode=off
  // (later settings win). `auri restore --switch` passes archive_mode=on with no archive_command:
  // WAL is kept (not archived) until the instance is chosen to become the stack's database.
  // Values must not contain spaces or quotes.
  std::vector<std::string> server_settings;
  std::chrono::milliseconds restore_timeout{3600000};
  std::chrono::milliseconds ready_timeout{300000};
};

struct RestoredInstance {
  std::string name;
  std::string root;
  std::string data_dir;
  int port = 0;
  std::string dsn;              // libpq DSN of the Auri database in the instance
  std::string target;           // what was restored, for people: "latest", "backup X", "time T"
  double restore_seconds = 0;   // pgBackRest restore
  double recovery_seconds = 0;  // start until writable
  IntegrityReport checks;       // empty when run_checks is false
};

// Errors: kFailedPrecondition (exit 4) when the target lies outside the restorable window (the
// message gives the window) or the instance already exists; kInvalidArgument for a bad name or an
// unknown backup id; kUnavailable / kDeadlineExceeded when the restore or the start fails (with
// the server log's last lines). A restored instance whose checks fail is returned normally.
Result<RestoredInstance> RestoreToNewInstance(BackupEngine& engine, const RestoreOptions& options,
                                              const Progress& progress);

// The checks RestoreToNewInstance makes before writing anything, for other restore commands
// (in place): no backup at all or a time outside `window` → kFailedPrecondition with the window;
// an unknown backup id → kInvalidArgument.
Status CheckRestoreTarget(const RestoreTarget& target, const BackupCatalog& catalog,
                          const RestorableWindow& window);
// "latest" | "backup ID" | "time T", for people.
std::string DescribeRestoreTarget(const RestoreTarget& target);

// Polls `admin_dsn` until pg_is_in_recovery() is false (recovery ended, the server promoted),
// at most `timeout`. Fails fast (kUnavailable with the last lines of `log_file`) when the server
// on `data_dir` stops meanwhile (no postmaster.pid).
Status WaitUntilRecovered(const std::string& admin_dsn, const std::string& data_dir,
                          const std::string& log_file, std::chrono::milliseconds timeout);

// Stops the instance's server (fast shutdown, bounded) and deletes its directory. Idempotent.
Status RemoveInstance(const std::string& instances_dir, const std::string& name,
                      const std::string& pg_bin_dir, const std::string& run_as,
                      std::chrono::milliseconds timeout);

}  // namespace auri::dr
