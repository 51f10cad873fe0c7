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
  int version = 0;       // from the NNNN prefix
  std::string name;      // file name without the .sql suffix, e.g. "0001_core"
  std::string sql;
  std::string checksum;  // sha256 of sql, lowercase hex
};

// The migrations compiled into this binary, ascending by version.
const std::vector<Migration>& EmbeddedMigrations();

// The newest version compiled into this binary (what the schema must be at to run it).
int BinarySchemaVersion();

struct MigrationReport {
  int applied = 0;          // how many were applied by this call
  int schema_version = 0;   // version after the call
};

// Applies every embedded migration not yet recorded. Errors: kUnavailable (cannot connect),
// kFailedPrecondition (an applied file changed, or the database is at a newer version than this
// binary knows), kInternal (a migration's SQL failed; the message names the file and the error).
Result<MigrationReport> ApplyMigrations(const std::string& dsn, const Logger& log);

// The highest applied version, 0 for an empty database.
Result<int> CurrentSchemaVersion(const std::string& dsn);

}  // namespace auri
