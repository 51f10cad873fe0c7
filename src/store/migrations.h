#pragma once
// Schema migrations: numbered SQL files from migrations/ (NNNN_name.sql), embedded into the binary
// at build time, applied in order, each in its own transaction, and recorded in
// schema_migrations (version, name, checksum sha256 hex, applied_at).
//
// A file that was applied and has since changed is an error (kFailedPrecondition, naming the file);
// applying is idempotent and safe to run concurrently (an advisory lock serialises runners).
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/result.h"

namespace auri {

struct Migration {
  int version = 0;   // from the NNNN prefix
  std::string name;  // file name without the .sql suffix, e.g. "0001_core"
  std::string sql;
  std::string checksum;  // sha256 of sql, lowercase hex
};

// The migrations compiled into this binary, ascending by version.
const std::vector<Migration>& EmbeddedMigrations();

// The newest version compiled into this binary (what the schema must be at to run it).
int BinarySchemaVersion();

struct MigrationReport {
  int applied = 0;         // how many were applied by this call
  int schema_version = 0;  // version after the call
};

// Applies every embedded migration not yet recorded, each in its own transaction together with
// its schema_migrations row, and logs each one applied. Runners serialise on a PostgreSQL advisory
// lock, so concurrent calls (several processes starting at once) are safe: the first applies, the
// others wait (at most 5 minutes) and then find nothing to do. Statements run without
// statement_timeout: a migration may legitimately take long.
// Errors: kUnavailable (cannot connect, or the connection was lost), kFailedPrecondition (see
// PlanMigrations), kDeadlineExceeded (another runner held the lock too long), kInternal (a
// migration's SQL failed; the message names the file and the error; earlier migrations of this
// call stay applied, the failed one is rolled back entirely).
Result<MigrationReport> ApplyMigrations(const std::string& dsn, const Logger& log);

// The highest applied version, 0 for an empty database.
// Errors: kUnavailable (cannot connect), kInternal (the query failed).
Result<int> CurrentSchemaVersion(const std::string& dsn);

// A row of schema_migrations.
struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string checksum;
};

// Decides what ApplyMigrations would apply: compares what the database recorded (`applied`, any
// order) with `embedded` (ascending) and returns the embedded migrations not yet applied,
// ascending. Pure; ApplyMigrations calls it under the migration lock. Errors, all
// kFailedPrecondition and naming the file: an applied migration whose checksum or name differs
// from the embedded one (it was edited after it was applied); an applied version this binary does
// not have (the database is newer than the binary); an unapplied migration older than the newest
// applied one (it would run out of order).
Result<std::vector<const Migration*>> PlanMigrations(const std::vector<AppliedMigration>& applied,
                                                     const std::vector<Migration>& embedded);

}  // namespace auri
