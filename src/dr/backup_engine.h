#pragma once
// BackupEngine: what Auri needs from a physical backup tool, so callers (`auri backup`, `auri
// restore`, verification, drills) never name the tool. The one implementation drives pgBackRest
// (dr/pgbackrest/); a second engine can be added behind this interface without touching callers.
//
// Every call runs external commands with the deadline given and fails with kDeadlineExceeded
// when it runs out. Errors: kUnavailable when the tool, the cluster or a repository cannot be
// reached or the tool reports a failure; kInvalidArgument for a bad request (unknown backup id).
// Implementations are not thread-safe; callers serialise with the DR lock (dr/dr_lock.h).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace auri::dr {

enum class BackupType { kFull, kDiff, kIncr };

// "full" | "diff" | "incr".
const char* BackupTypeName(BackupType type);
// Parses "full" | "diff" | "incr". Errors: kInvalidArgument.
Result<BackupType> ParseBackupType(const std::string& text);

// One backup set in one repository.
struct BackupRecord {
  std::string id;     // the engine's id, e.g. "20261126-003805F"
  std::string label;  // operator's label ("pre-migration"), empty when none
  std::string type;   // "full" | "diff" | "incr"
  int repo = 0;       // repository number (1-based)
  int64_t start_unix = 0;
  int64_t stop_unix = 0;        // the backup is consistent from this time on
  int64_t size_bytes = 0;       // database size the backup restores
  int64_t repo_size_bytes = 0;  // bytes stored in the repository (compressed, encrypted)
  std::string wal_start;        // first WAL segment the backup needs
  std::string wal_stop;         // last WAL segment the backup needs
  std::string lsn_start;        // WAL position where the backup starts ("0/9000028"), if known
  std::string lsn_stop;         // ... and where it is consistent
  std::string prior;            // backup this one depends on (diff/incr), empty for full
  bool error = false;           // the engine found page checksum errors while backing up
};

// Status and WAL range of one repository.
struct RepositoryState {
  int repo = 0;
  bool ok = false;
  std::string message;  // the engine's status message ("ok", "no valid backups", an error)
  std::string wal_min;  // oldest archived WAL segment, empty when none
  std::string wal_max;  // newest archived WAL segment
};

struct BackupCatalog {
  std::vector<BackupRecord> backups;  // oldest first
  std::vector<RepositoryState> repos;
};

// What to restore.
struct RestoreTarget {
  enum class Kind {
    kLatest,  // replay every archived WAL segment (end of the archive)
    kBackup,  // the state at the end of backup `backup_id` (consistent point, no further replay)
    kTime,    // every transaction committed before `time_unix_us`, none after
  };
  Kind kind = Kind::kLatest;
  std::string backup_id;
  int64_t time_unix_us = 0;
};

struct RestoreRequest {
  std::string data_dir;  // REQUIRES: exists, empty, mode 0700, owned by the server user
  RestoreTarget target;
  int repo = 0;  // 0 = the engine picks the first repository that can serve the target
};

class BackupEngine {
 public:
  virtual ~BackupEngine() = default;

  // Makes the repositories ready for backups and WAL archiving (idempotent; the cluster must be
  // running with archiving configured).
  virtual Status PrepareRepositories(std::chrono::milliseconds timeout) = 0;

  // Takes one backup into repository `repo` (1-based) and returns its record.
  virtual Result<BackupRecord> CreateBackup(BackupType type, const std::string& label, int repo,
                                            std::chrono::milliseconds timeout) = 0;

  // Every backup in every repository, and each repository's state.
  virtual Result<BackupCatalog> List(std::chrono::milliseconds timeout) = 0;

  // Applies the retention policy now (removes expired backups and the WAL only they needed).
  virtual Status Expire(std::chrono::milliseconds timeout) = 0;

  // Writes the files of the requested state into request.data_dir, configured so that a server
  // started there replays WAL to the target and then ends recovery (promotes).
  virtual Status Restore(const RestoreRequest& request, std::chrono::milliseconds timeout) = 0;

  // Checks the stored files of backup `backup_id` in repository `repo` against their checksums
  // without restoring. Returns kCheckFailed naming the bad files.
  virtual Status VerifyStoredFiles(const std::string& backup_id, int repo,
                                   std::chrono::milliseconds timeout) = 0;
};

}  // namespace auri::dr
