#pragma once
// The drill log (spec 40-dr.md, "Drills"): one JSON object per line in
// <repo1>/drills/log.jsonl — in the backup repository, so it survives the disasters it records —
// and its renderings as the seed's "DR Test Results Log" and "Regular Testing" tables and as one
// Markdown page per drill (the seed's post-test step, `auri drill report --write DIR`).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace auri::dr {

// One success criterion of a drill and whether it held.
struct DrillCriterion {
  std::string name;  // "integrity", "row_counts", "rpo", ...
  bool passed = false;
  std::string detail;  // the numbers, one line
};

// One run of one drill.
struct DrillRecord {
  std::string id;           // unique per run: "<started_at compact>-<drill>-<random>"
  std::string drill;        // "snapshot-restore" | "pitr" | ...
  std::string started_at;   // RFC 3339 UTC
  std::string finished_at;  // RFC 3339 UTC
  std::string target;       // "throwaway" (a deployment built for the drill) | "running"
  bool passed = false;
  std::optional<double> rto_seconds;  // disaster → first successful write through the API
  std::optional<double> rpo_seconds;  // acknowledged writes lost, as time (0 = none lost)
  int64_t heartbeats_acknowledged = 0;
  int64_t acknowledged_lost = 0;  // acknowledged before the disaster, missing after recovery
  std::vector<DrillCriterion> criteria;
  std::string measurements_json = "{}";  // drill-specific numbers (restore MB/s, timings …)
  std::string notes;                     // one line for the results table
  std::string tester;                    // user@host
  std::string version;                   // auri version that ran it
  std::string error;                     // set when the drill could not complete
};

// One JSON line (no trailing newline) and back. Parse errors: kInvalidArgument.
std::string DrillRecordToJson(const DrillRecord& record);
Result<DrillRecord> DrillRecordFromJson(const std::string& line);

// "<repo_path>/drills/log.jsonl".
std::string DrillLogPath(const std::string& repo_path);

// Appends one line under an exclusive flock, then fsyncs the file and (when created) its
// directory, so concurrent drills never interleave and an acknowledged record survives a crash.
// Creates <repo_path>/drills/ when missing. Errors: kUnavailable with the path.
Status AppendDrillRecord(const std::string& repo_path, const DrillRecord& record);

// Every record, oldest first. A missing log is an empty list; a line that does not parse is
// skipped and counted in `*skipped` (a torn last line after a crash must not hide the rest).
// Errors: kUnavailable when the file exists but cannot be read.
Result<std::vector<DrillRecord>> ReadDrillLog(const std::string& repo_path, int* skipped);

// The seed's "DR Test Results Log": | Date | Test | Result | RTO | RPO | Notes | Tester |, newest
// first.
std::string RenderResultsLog(const std::vector<DrillRecord>& records);

// The newest run of one drill kind (spec 40-dr.md: "last drill result per kind"), for
// `auri dr status`, the dr-agent's metrics and the Regular Testing table.
struct LastDrill {
  std::string drill;                // every kind of the spec, also those this build cannot run yet
  std::string title;                // the seed's name for it
  std::string frequency;            // the seed's schedule
  int max_age_days = 0;             // overdue when the last run started longer ago (or never ran)
  std::optional<DrillRecord> last;  // empty: never run
  bool overdue = false;
};

// One entry per kind of the spec, in its order; `records` as ReadDrillLog returns them.
std::vector<LastDrill> LastDrillPerKind(const std::vector<DrillRecord>& records, int64_t now_unix);

// Unix seconds of an RFC 3339 time as the drill log writes them (0 when unreadable).
int64_t DrillTimeUnix(const std::string& rfc3339);

// The seed's "Regular Testing": every drill kind of the spec with its frequency, when it was last
// run and its last result ("never" for kinds without a record). `now_unix` marks overdue ones.
std::string RenderRegularTesting(const std::vector<DrillRecord>& records, int64_t now_unix);

// One drill as a Markdown page: verdict, RTO/RPO, criteria table, measurements.
std::string RenderDrillPage(const DrillRecord& record);

// File name for RenderDrillPage: "<YYYYMMDD>-<drill>-<short id>.md" (the seed's
// docs/operations/dr-tests/<date>-snapshot-restore.md, unique per run).
std::string DrillPageFileName(const DrillRecord& record);

}  // namespace auri::dr
