#pragma once
// `auri drill NAME`: a seed DR test run end to end, unattended, on a deployment built for it
// (spec 40-dr.md, "Drills"; the seed's DR Testing Procedures). Every drill is one linear script:
//
//   build a throwaway deployment → seed data through the API → start the heartbeat writer →
//   back up → record the manifest and row counts → inject the disaster → recover → point the
//   services at the recovered database → `auri verify` → measure RTO/RPO from the heartbeats →
//   judge the success criteria → clean up.
//
// Drills:
//   snapshot-restore (seed Test 1) — the primary is lost: PostgreSQL is killed (SIGKILL) and its
//     data directory deleted; only the backup repository survives. Recovery restores everything
//     archived (`auri restore --latest`) into a new instance and restarts the services on it.
//     Pass: integrity checks, row counts equal to before the disaster, every checklist row,
//     RTO ≤ objective, RPO ≤ objective.
//   pitr (seed Scenario 5) — accidental deletion: marker events at known times with WAL
//     switches between them, then every seeded trigger is deleted by one bad statement. Recovery
//     restores to just before the deletion (`auri restore --time`) and restarts the services on
//     it. Pass: exactly the markers before the target exist, the deleted triggers are back (the
//     manifest matches), heartbeats are exact around the target, integrity checks, every
//     checklist row, RTO ≤ objective.
//
// snapshot-restore --target-running runs seed Test 1 as the seed wrote it against the operator's
// deployment, without destroying anything: heartbeats, `auri restore --latest` into a new
// instance, integrity checks, configuration row counts, RPO, `auri verify`, instance removed.
//
// Otherwise the drill never touches the operator's deployment, except to append its record to the
// drill log in the operator's repo1 (done by the caller with the returned record).
#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "dr/drill/drill_log.h"
#include "dr/progress.h"

namespace auri::dr {

// The drills this build knows, in the order `auri drill --help` lists them.
const std::vector<std::string>& KnownDrills();

struct DrillOptions {
  std::string drill;                     // one of KnownDrills()
  std::string auri_exe;                  // this binary
  std::vector<std::string> config_args;  // the operator's --config/--set, inherited
  std::string superuser = "postgres";
  std::string database = "auri";
  std::string tmp_parent = "/tmp";
  bool keep = false;  // leave the deployment running (and its home) for inspection
  // Drill the operator's running deployment instead (snapshot-restore only: non-destructive).
  bool target_running = false;
  std::string running_home;
  std::string running_api_url;
  std::string running_admin_dsn;
  std::string running_dsn;
  // Seed size (small by default: the CI form).
  int users = 3;
  int triggers_per_user = 3;
  int events = 500;
  int ballast_mb = 0;  // extra bulk data (one table) to measure restore speed at size
  // Objectives judged as success criteria (spec 40-dr.md, "Objectives").
  double rto_objective_seconds = 20;
  double rpo_objective_seconds = 5;
  std::chrono::milliseconds heartbeat_interval{100};
  // Heartbeats written after the backup and before the disaster (they exercise WAL archiving).
  std::chrono::milliseconds settle{2000};
  std::string tester;   // user@host
  std::string version;  // auri version
};

struct DrillOutcome {
  DrillRecord record;  // always filled; record.passed says whether every criterion held
  // Not OK when the drill could not complete (record.error says why): before the disaster the
  // setup's own error; after it kCheckFailed (the recovery failed; also a "recovery" criterion).
  Status status;
  std::string kept_home;  // with --keep: where the deployment lives
};

// Runs the drill. Progress lines go through `progress`. Never throws.
DrillOutcome RunDrill(const DrillOptions& options, const Progress& progress);

// For an interrupt (Ctrl-C, SIGTERM) while RunDrill runs on another thread: removes what the
// drill created outside its process (the throwaway deployment with its servers and home; on the
// running deployment, the restored instance and scratch directory) and returns a line saying
// what was removed ("" when nothing was left to undo). The caller then exits: RunDrill's thread
// stays blocked before its own cleanup. With --keep nothing is removed.
std::string CleanUpInterruptedDrill();

}  // namespace auri::dr
