#pragma once
// Integrity checks run after every restore and verification (spec 40-dr.md, "Integrity checks"):
// pg_amcheck on heap and B-tree indexes, every foreign key and check constraint re-evaluated,
// row counts of the core tables, the schema version against the binary's migrations, and the
// application invariants. Each check reports pass/fail and its numbers; one failing check does
// not stop the others.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace auri::dr {

struct CheckResult {
  std::string name;  // "amcheck", "constraints", "row_counts", "schema_version", "invariants"
  bool passed = false;
  std::string detail;  // the numbers, or what failed
};

struct IntegrityReport {
  std::vector<CheckResult> checks;
  std::map<std::string, int64_t> row_counts;  // table -> rows
  bool Passed() const;
};

struct IntegrityOptions {
  std::string dsn;  // libpq DSN of the Auri database to check (superuser)
  std::string pg_bin_dir = "/usr/lib/postgresql/15/bin";
  std::chrono::milliseconds timeout{600000};  // for pg_amcheck
};

// Runs every check against `options.dsn`. Errors: kUnavailable when the database cannot be
// reached at all; failing checks are not errors (see IntegrityReport::Passed).
Result<IntegrityReport> RunIntegrityChecks(const IntegrityOptions& options);

// "PASS amcheck  ..." lines, one per check.
std::string RenderIntegrityReport(const IntegrityReport& report);

}  // namespace auri::dr
