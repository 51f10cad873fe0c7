#include "dr/check/integrity_check.h"

#include <cstdlib>
#include <sstream>

#include "stack/postgres_server.h"
#include "stack/process.h"
#include "store/migrations.h"

namespace auri::dr {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// pg_amcheck checks every heap (visibility, tuple structure, TOAST) and every B-tree index of the
// database. It needs the amcheck extension in the database: --install-missing creates it, which
// is the one write the checks make to the database they inspect.
CheckResult CheckAmcheck(const IntegrityOptions& o) {
  CheckResult r{"amcheck", false, ""};
  auto out =
      RunCommand({o.pg_bin_dir + "/pg_amcheck", "--install-missing", "--heapallindexed", o.dsn}, "",
                 o.timeout, 64 * 1024);
  if (!out.ok()) {
    r.detail = out.status().message();
    return r;
  }
  std::string text = out->output;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  r.passed = out->exit_code == 0;
  r.detail =
      r.passed ? "heap and b-tree checks clean"
               : "pg_amcheck exit " + std::to_string(out->exit_code) + ": " + text.substr(0, 2000);
  return r;
}

// Re-evaluates every foreign key and CHECK constraint over the stored rows (a restore copies files,
// so constraints are only as good as the files: this is the logical check of them). Foreign keys
// are checked once on the table that declares them (not per partition); check constraints of one
// table are evaluated in a single scan.
CheckResult CheckConstraints(const std::string& dsn) {
  CheckResult r{"constraints", false, ""};
  auto fks = QueryAdminSql(dsn, R"sql(
    SELECT format('SELECT count(*) FROM ONLY %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)',
                  c.conrelid::regclass,
                  (SELECT string_agg(format('c.%I IS NOT NULL', a.attname), ' AND ')
                     FROM unnest(c.conkey) k JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k),
                  c.confrelid::regclass,
                  (SELECT string_agg(format('p.%I = c.%I', pa.attname, ca.attname), ' AND ')
                     FROM unnest(c.conkey, c.confkey) AS k(ck, pk)
                     JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.ck
                     JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.pk)),
           c.conname, c.conrelid::regclass::text, t.relkind
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE c.contype = 'f' AND c.conparentid = 0 AND n.nspname = 'public'
     ORDER BY 2)sql");
  if (!fks.ok()) {
    r.detail = fks.status().message();
    return r;
  }
  int checked = 0;
  std::vector<std::string> violations;
  for (const auto& row : *fks) {
    std::string sql = row[0];
    // A foreign key on a partitioned table covers its partitions: drop ONLY so they are scanned.
    if (row[3] == "p") sql.replace(sql.find("FROM ONLY "), 10, "FROM ");
    auto count = QueryAdminSql(dsn, sql);
    ++checked;
    if (!count.ok()) {
      violations.push_back(row[1] + ": " + count.status().message());
    } else if ((*count)[0][0] != "0") {
      violations.push_back(row[1] + " on " + row[2] + ": " + (*count)[0][0] + " orphan rows");
    }
  }
  auto checks = QueryAdminSql(dsn, R"sql(
    SELECT c.conrelid::regclass::text,
           string_agg(format('count(*) FILTER (WHERE NOT (%s))',
                             substring(pg_get_constraintdef(c.oid) FROM 'CHECK \((.*)\)')), ', '
                      ORDER BY c.conname),
           string_agg(c.conname, ',' ORDER BY c.conname)
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE c.contype = 'c' AND c.conislocal AND n.nspname = 'public'
     GROUP BY 1 ORDER BY 1)sql");
  if (!checks.ok()) {
    r.detail = checks.status().message();
    return r;
  }
  for (const auto& row : *checks) {
    auto counts = QueryAdminSql(dsn, "SELECT " + row[1] + " FROM " + row[0]);
    std::vector<std::string> names;
    std::stringstream ss(row[2]);
    for (std::string n; std::getline(ss, n, ',');) names.push_back(n);
    checked += static_cast<int>(names.size());
    if (!counts.ok()) {
      violations.push_back(row[0] + ": " + counts.status().message());
      continue;
    }
    for (size_t i = 0; i < names.size() && i < (*counts)[0].size(); ++i) {
      if ((*counts)[0][i] != "0") {
        violations.push_back(names[i] + " on " + row[0] + ": " + (*counts)[0][i] +
                             " violating rows");
      }
    }
  }
  // Constraints added NOT VALID were never checked against old rows; name them.
  auto unvalidated = QueryAdminSql(
      dsn, "SELECT conname FROM pg_constraint WHERE NOT convalidated AND contype IN ('f','c')");
  if (unvalidated.ok()) {
    for (const auto& row : *unvalidated) violations.push_back(row[0] + ": not validated");
  }
  r.passed = violations.empty();
  r.detail = std::to_string(checked) + " constraints checked";
  for (const auto& v : violations) r.detail += "; " + v;
  return r;
}

CheckResult CheckRowCounts(const std::string& dsn, std::map<std::string, int64_t>* counts) {
  CheckResult r{"row_counts", false, ""};
  const char* tables[] = {"users", "organizations", "triggers", "events", "action_jobs"};
  std::string sql = "SELECT ";
  for (size_t i = 0; i < std::size(tables); ++i) {
    sql += std::string(i ? ", " : "") + "(SELECT count(*) FROM " + tables[i] + ")";
  }
  auto rows = QueryAdminSql(dsn, sql);
  if (!rows.ok()) {
    r.detail = rows.status().message();
    return r;
  }
  for (size_t i = 0; i < std::size(tables); ++i) {
    (*counts)[tables[i]] = std::atoll((*rows)[0][i].c_str());
    r.detail += std::string(i ? ", " : "") + tables[i] + "=" + (*rows)[0][i];
  }
  r.passed = true;
  return r;
}

CheckResult CheckSchemaVersion(const std::string& dsn) {
  CheckResult r{"schema_version", false, ""};
  auto rows =
      QueryAdminSql(dsn, "SELECT version, checksum FROM schema_migrations ORDER BY version");
  if (!rows.ok()) {
    r.detail = rows.status().message();
    return r;
  }
  const auto& embedded = EmbeddedMigrations();
  std::vector<std::string> problems;
  size_t i = 0;
  for (; i < embedded.size(); ++i) {
    if (i >= rows->size()) {
      problems.push_back("migration " + std::to_string(embedded[i].version) + " missing");
      continue;
    }
    const auto& row = (*rows)[i];
    if (std::atoi(row[0].c_str()) != embedded[i].version || row[1] != embedded[i].checksum) {
      problems.push_back("migration " + row[0] + " differs from the binary's");
    }
  }
  for (; i < rows->size(); ++i) {
    problems.push_back("migration " + (*rows)[i][0] + " is newer than this binary");
  }
  std::string db_version = rows->empty() ? "0" : rows->back()[0];
  r.passed = problems.empty();
  r.detail = "database " + db_version + ", binary " + std::to_string(BinarySchemaVersion());
  for (const auto& p : problems) r.detail += "; " + p;
  return r;
}

// Invariants the schema cannot express (or that only hold between tables written by different
// roles). Each query returns the number of violations.
CheckResult CheckInvariants(const std::string& dsn) {
  CheckResult r{"invariants", false, ""};
  struct Invariant {
    const char* name;
    const char* sql;
  };
  const Invariant invariants[] = {
      {"organizations without exactly one owner",
       "SELECT count(*) FROM organizations o WHERE (SELECT count(*) FROM organization_members m "
       "WHERE m.organization_id = o.id AND m.role = 'owner') <> 1"},
      {"action_jobs whose trigger is missing",
       "SELECT count(*) FROM action_jobs j WHERE NOT EXISTS (SELECT 1 FROM triggers t WHERE t.id = "
       "j.trigger_id)"},
      {"action_jobs whose event is missing",
       "SELECT count(*) FROM action_jobs j WHERE NOT EXISTS (SELECT 1 FROM event_ids e WHERE e.id "
       "= j.event_id)"},
      // action_results.trigger_id has no foreign key of its own since 0006: it must be its job's.
      {"action_results whose trigger is not their job's",
       "SELECT count(*) FROM action_results r JOIN action_jobs j ON j.id = r.job_id WHERE "
       "r.trigger_id <> j.trigger_id"},
      // action_jobs.action_id has no foreign key since 0007 (a trigger clears it when the
      // action is deleted): a job may name no action, but never one that does not exist.
      {"action_jobs whose action is missing",
       "SELECT count(*) FROM action_jobs j WHERE j.action_id IS NOT NULL AND NOT EXISTS (SELECT 1 "
       "FROM trigger_actions a WHERE a.id = j.action_id)"},
      {"events missing from event_ids",
       "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_ids i WHERE i.id = "
       "e.id)"},
      {"event-processor checkpoints ahead of the newest event",
       "SELECT count(*) FROM event_processor_checkpoints c WHERE c.last_block_time > "
       "COALESCE((SELECT max(block_time) FROM events), '-infinity')"},
  };
  std::vector<std::string> failed;
  for (const auto& inv : invariants) {
    auto rows = QueryAdminSql(dsn, inv.sql);
    if (!rows.ok()) {
      failed.push_back(std::string(inv.name) + ": " + rows.status().message());
    } else if ((*rows)[0][0] != "0") {
      failed.push_back(std::string(inv.name) + ": " + (*rows)[0][0]);
    }
  }
  r.passed = failed.empty();
  r.detail = std::to_string(std::size(invariants)) + " invariants checked";
  for (const auto& f : failed) r.detail += "; " + f;
  return r;
}

}  // namespace

bool IntegrityReport::Passed() const {
  for (const auto& c : checks) {
    if (!c.passed) return false;
  }
  return !checks.empty();
}

Result<IntegrityReport> RunIntegrityChecks(const IntegrityOptions& options) {
  // One cheap query first, so "cannot connect" is one clear error, not five failed checks.
  RETURN_IF_ERROR(QueryAdminSql(options.dsn, "SELECT 1").status());
  IntegrityReport report;
  report.checks.push_back(CheckAmcheck(options));
  report.checks.push_back(CheckConstraints(options.dsn));
  report.checks.push_back(CheckRowCounts(options.dsn, &report.row_counts));
  report.checks.push_back(CheckSchemaVersion(options.dsn));
  report.checks.push_back(CheckInvariants(options.dsn));
  return report;
}

std::string RenderIntegrityReport(const IntegrityReport& report) {
  std::string out;
  for (const auto& c : report.checks) {
    char line[96];
    std::snprintf(line, sizeof line, "  %s  %-15s ", c.passed ? "PASS" : "FAIL", c.name.c_str());
    out += line + c.detail + "\n";
  }
  return out;
}

}  // namespace auri::dr
