#pragma once
// VerifyBackup: proves a backup restores. Checks the stored files against their checksums,
// restores the backup into a scratch instance, runs the integrity checks there, removes the
// scratch instance, and records the verdict next to the backup.
//
// Where the verdict lives: <repository path>/auri-verifications.json, one object per backup
// ("<id>": {state, verified_at, seconds, detail}), written atomically. It sits in the repository
// so it travels with the backups it describes (a rebuilt site still knows which ones were proven).
#include <map>
#include <string>

#include "common/result.h"
#include "dr/backup_engine.h"
#include "dr/progress.h"
#include "dr/restore/restore_instance.h"

namespace auri::dr {

struct VerificationRecord {
  std::string backup_id;
  int repo = 0;
  std::string state;        // "passed" | "failed"
  std::string verified_at;  // RFC 3339
  double seconds = 0;
  std::string detail;  // the failure, or the row counts of a pass
  // What the scratch restore measured (0 when it did not get that far); the predicted RTO of
  // `auri dr status` divides by these rates.
  double restore_seconds = 0;      // pgBackRest restore of the files
  int64_t restored_bytes = 0;      // database size restored
  double recovery_seconds = 0;     // server start until writable (WAL replay + promotion)
  int64_t replayed_wal_bytes = 0;  // WAL from the backup's start to the end of recovery
};

// Verifies `backup` (restoring from its repository). `scratch` supplies the instance settings;
// its name and target are set here. Returns the record (also written to `repo_path`); a failed
// verification is a record with state "failed", not an error. Errors: only when the verdict
// cannot be recorded, or the engine itself is unavailable before anything was checked.
Result<VerificationRecord> VerifyBackup(BackupEngine& engine, const BackupRecord& backup,
                                        const std::string& repo_path, RestoreOptions scratch,
                                        const Progress& progress);

// Verdicts recorded in one repository, by backup id (empty when none).
std::map<std::string, VerificationRecord> ReadVerifications(const std::string& repo_path);

}  // namespace auri::dr
