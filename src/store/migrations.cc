#include "store/migrations.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <pqxx/pqxx>

#include "store/conninfo.h"
#include "store/embedded_migrations.h"
#include "store/pg_error.h"
#include "store/sha256.h"

namespace auri {
namespace {

using store_internal::ConnectSettings;
using store_internal::ConnInfo;

// The advisory lock every runner takes (two-key form, so it cannot collide with single-key locks
// taken elsewhere): 0x61757269 is "auri" in ASCII, 1 is "migrations".
constexpr const char* kLockSql = "SELECT pg_advisory_lock(1635087977, 1)";

// How long a runner waits for another to finish before giving up.
constexpr int kLockTimeoutMs = 5 * 60 * 1000;

constexpr const char* kCreateTableSql =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version integer PRIMARY KEY,"
    "  name text NOT NULL,"
    "  checksum text NOT NULL,"
    "  applied_at timestamptz NOT NULL DEFAULT now())";

std::string FileName(const std::string& name) { return name + ".sql"; }

// Short checksum for messages: enough to tell two versions apart at a glance.
std::string Short(const std::string& checksum) { return checksum.substr(0, 12); }

Result<std::vector<AppliedMigration>> ReadApplied(pqxx::connection& conn) {
  std::vector<AppliedMigration> applied;
  pqxx::nontransaction tx(conn, "read_schema_migrations");
  for (const auto& row :
       tx.exec("SELECT version, name, checksum FROM schema_migrations ORDER BY version")) {
    applied.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>()});
  }
  return applied;
}

// Everything ApplyMigrations does once connected. pqxx exceptions are handled by the caller.
Result<MigrationReport> ApplyOnConnection(pqxx::connection& conn, const std::string& endpoint,
                                          const Logger& log) {
  {
    // Held until the connection closes (also when this returns early with an error), so the
    // read of schema_migrations and the applying are one critical section across processes.
    pqxx::nontransaction tx(conn, "migration_lock");
    try {
      tx.exec(kLockSql);
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() != "55P03") throw;
      return DeadlineExceeded("waited " + std::to_string(kLockTimeoutMs / 1000) +
                                  " s for another process applying migrations to " + endpoint,
                              "look for a stuck `auri migrate` or service start-up "
                              "(pg_stat_activity, application_name auri) and retry");
    }
  }
  {
    pqxx::work tx(conn, "schema_migrations");
    tx.exec(kCreateTableSql);
    tx.commit();
  }
  ASSIGN_OR_RETURN(std::vector<AppliedMigration> applied, ReadApplied(conn));
  ASSIGN_OR_RETURN(std::vector<const Migration*> pending,
                   PlanMigrations(applied, EmbeddedMigrations()));

  MigrationReport report;
  for (const AppliedMigration& a : applied) {
    report.schema_version = std::max(report.schema_version, a.version);
  }
  for (const Migration* m : pending) {
    auto start = std::chrono::steady_clock::now();
    try {
      pqxx::work tx(conn, "migration");
      tx.exec(m->sql);
      tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                     m->version, m->name, m->checksum);
      tx.commit();
    } catch (const std::exception& e) {
      std::string what = "migration " + FileName(m->name) + " on " + endpoint;
      if (store_internal::IsConnectionLoss(e)) return store_internal::StatusFromException(e, what);
      return Internal(what + " failed: " + store_internal::OneLine(e.what()),
                      "the migration was rolled back; fix the SQL in a new build, or the "
                      "database state it depends on");
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    log.Info("applied migration", {{"version", m->version},
                                   {"name", m->name},
                                   {"checksum", m->checksum},
                                   {"duration_ms", static_cast<int64_t>(ms)},
                                   {"database", endpoint}});
    ++report.applied;
    report.schema_version = m->version;
  }
  return report;
}

}  // namespace

const std::vector<Migration>& EmbeddedMigrations() {
  // Built once: the checksums are computed from the embedded bytes themselves, so what is
  // recorded always describes exactly what ran.
  static const std::vector<Migration> migrations = [] {
    std::vector<Migration> out;
    for (size_t i = 0; i < store_internal::kEmbeddedMigrationFileCount; ++i) {
      const auto& file = store_internal::kEmbeddedMigrationFiles[i];
      Migration m;
      m.version = file.version;
      m.name = file.name;
      m.sql.assign(reinterpret_cast<const char*>(file.bytes), file.size);
      m.checksum = Sha256Hex(m.sql);
      out.push_back(std::move(m));
    }
    return out;
  }();
  return migrations;
}

int BinarySchemaVersion() {
  const auto& all = EmbeddedMigrations();
  return all.empty() ? 0 : all.back().version;
}

Result<std::vector<const Migration*>> PlanMigrations(const std::vector<AppliedMigration>& applied,
                                                     const std::vector<Migration>& embedded) {
  std::map<int, const Migration*> by_version;
  for (const Migration& m : embedded) by_version[m.version] = &m;
  const int binary_version = embedded.empty() ? 0 : embedded.back().version;

  int newest_applied = 0;
  std::map<int, const AppliedMigration*> applied_by_version;
  for (const AppliedMigration& a : applied) {
    applied_by_version[a.version] = &a;
    newest_applied = std::max(newest_applied, a.version);
    auto it = by_version.find(a.version);
    if (it == by_version.end()) {
      if (a.version > binary_version) {
        return FailedPrecondition(
            "the database schema is at version " + std::to_string(a.version) + " (" +
                FileName(a.name) + "), newer than this binary's " + std::to_string(binary_version),
            "run a newer auri build against this database (or restore a backup taken before "
            "the upgrade)");
      }
      return FailedPrecondition(
          "applied migration " + FileName(a.name) + " is not in this binary",
          "the file was removed or renumbered after it was applied; restore it");
    }
    const Migration& m = *it->second;
    if (a.checksum != m.checksum || a.name != m.name) {
      return FailedPrecondition(
          "migration " + FileName(m.name) + " changed after it was applied as " + FileName(a.name) +
              " (recorded checksum " + Short(a.checksum) + ", file " + Short(m.checksum) + ")",
          "never edit an applied migration: restore the file to what was applied and put the "
          "change in a new migration");
    }
  }

  std::vector<const Migration*> pending;
  for (const Migration& m : embedded) {
    if (applied_by_version.count(m.version)) continue;
    if (m.version < newest_applied) {
      return FailedPrecondition(
          "migration " + FileName(m.name) + " is not applied but the newer version " +
              std::to_string(newest_applied) + " is; it would run out of order",
          "give it a number above every applied migration");
    }
    pending.push_back(&m);
  }
  return pending;
}

Result<MigrationReport> ApplyMigrations(const std::string& dsn, const Logger& log) {
  ASSIGN_OR_RETURN(ConnInfo info, store_internal::ParseDsn(dsn));
  ConnectSettings settings;
  settings.statement_timeout_ms = 0;
  settings.lock_timeout_ms = kLockTimeoutMs;
  ASSIGN_OR_RETURN(auto conn, store_internal::Connect(info, settings));
  const std::string endpoint = info.Endpoint();
  try {
    auto report = ApplyOnConnection(*conn, endpoint, log);
    if (report.ok() && report->applied == 0) {
      log.Debug("schema is up to date",
                {{"schema_version", report->schema_version}, {"database", endpoint}});
    }
    return report;
  } catch (const std::exception& e) {
    return store_internal::StatusFromException(e, "applying migrations to " + endpoint);
  }
}

Result<int> CurrentSchemaVersion(const std::string& dsn) {
  ASSIGN_OR_RETURN(ConnInfo info, store_internal::ParseDsn(dsn));
  ConnectSettings settings;
  settings.statement_timeout_ms = 30000;
  ASSIGN_OR_RETURN(auto conn, store_internal::Connect(info, settings));
  try {
    pqxx::nontransaction tx(*conn, "schema_version");
    if (tx.exec("SELECT to_regclass('schema_migrations') IS NULL")[0][0].as<bool>()) return 0;
    return tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0].as<int>();
  } catch (const std::exception& e) {
    return store_internal::StatusFromException(e,
                                               "reading the schema version of " + info.Endpoint());
  }
}

}  // namespace auri
