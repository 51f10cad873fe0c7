// `auri drill NAME [--json] [--keep]` and `auri drill report [--write DIR] [--json]`: runs a DR
// drill on a throwaway deployment (dr/drill/run_drill.h), appends its record to the drill log in
// this deployment's repo1 (<repo1>/drills/log.jsonl, dr/drill/drill_log.h), and renders the log as
// the seed's "DR Test Results Log" and "Regular Testing" tables.
//
// Exit codes: 0 the drill passed; 1 a success criterion failed (a recovery that fails after the
// disaster is one); 2 unknown drill or bad option; 3 the drill could not set up its deployment
// before the disaster (a dependency, a wait that ran out);
// 4 refused (e.g. pitr --target-running: it would delete live data); 5 internal.
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/backup_wiring.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "cli/role_runtime.h"
#include "common/fs.h"
#include "common/version.h"
#include "dr/drill/drill_log.h"
#include "dr/drill/run_drill.h"
#include "dr/progress.h"

namespace auri {
namespace {

using nlohmann::json;

std::string Tester() {
  const char* user = std::getenv("USER");
  std::string name = user && *user ? user : "";
  if (name.empty()) {
    if (passwd* pw = ::getpwuid(::geteuid())) name = pw->pw_name;
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return (name.empty() ? "unknown" : name) + "@" + host;
}

std::string JoinDrills() {
  std::string out;
  for (const auto& d : dr::KnownDrills()) out += (out.empty() ? "" : ", ") + d;
  return out;
}

int RunReport(const CliContext& ctx, const DrillCommandOptions& options) {
  const std::string repo = ctx.config.BackupRepoPaths().front();
  int skipped = 0;
  auto records = dr::ReadDrillLog(repo, &skipped);
  if (!records.ok()) return FailCommand(ctx, records.status());
  std::vector<std::string> written;
  if (!options.write_dir.empty()) {
    Status s = MakeDirectories(options.write_dir, 0755);
    if (!s.ok()) return FailCommand(ctx, s);
    for (const auto& r : *records) {
      std::string path = options.write_dir + "/" + dr::DrillPageFileName(r);
      s = WriteFileAtomically(path, dr::RenderDrillPage(r), 0644);
      if (!s.ok()) return FailCommand(ctx, s);
      written.push_back(path);
    }
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (ctx.json) {
    json list = json::array();
    for (const auto& r : *records) list.push_back(json::parse(dr::DrillRecordToJson(r)));
    std::printf("%s\n",
                json({{"log", dr::DrillLogPath(repo)},
                      {"records", list},
                      {"skipped_lines", skipped},
                      {"written", written},
                      {"results_log_markdown", dr::RenderResultsLog(*records)},
                      {"regular_testing_markdown", dr::RenderRegularTesting(*records, now)}})
                    .dump(2)
                    .c_str());
    return kExitOk;
  }
  std::printf("## DR Test Results Log\n\n%s\n## Regular Testing\n\n%s",
              dr::RenderResultsLog(*records).c_str(),
              dr::RenderRegularTesting(*records, now).c_str());
  std::printf(
      "\n<!-- from %s: %zu records%s -->\n", dr::DrillLogPath(repo).c_str(), records->size(),
      skipped ? (", " + std::to_string(skipped) + " unreadable lines skipped").c_str() : "");
  if (!written.empty()) {
    std::fprintf(stderr, "wrote %zu drill reports to %s\n", written.size(),
                 options.write_dir.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunDrillCommand(const CliContext& ctx, const DrillCommandOptions& options) {
  const Config& c = ctx.config;
  if (options.name == "report") return RunReport(ctx, options);
  if (!options.write_dir.empty()) {
    return FailCommand(ctx, InvalidArgument("--write belongs to `auri drill report`"));
  }
  bool known = false;
  for (const auto& d : dr::KnownDrills()) known = known || d == options.name;
  if (!known) {
    return FailCommand(ctx,
                       InvalidArgument("unknown drill '" + options.name + "'",
                                       "drills: " + JoinDrills() + "; or `auri drill report`"));
  }
  if (options.target_running && options.name != "snapshot-restore") {
    return FailCommand(
        ctx,
        FailedPrecondition("refusing --target-running: drill '" + options.name +
                               "' destroys its deployment's data and is only run on a throwaway "
                               "deployment",
                           "run `auri drill " + options.name +
                               "` without --target-running: it builds its own deployment"));
  }
  if (options.users < 1 || options.events < 0 || options.ballast_mb < 0) {
    return FailCommand(ctx, InvalidArgument("--users must be ≥ 1, --events and --ballast-mb ≥ 0"));
  }

  dr::DrillOptions o;
  o.drill = options.name;
  o.auri_exe = ctx.self_exe;
  o.config_args = ctx.config_args;
  o.superuser = c.postgres.user;
  o.database = c.postgres.database;
  o.keep = options.keep;
  o.target_running = options.target_running;
  o.running_home = c.home;
  o.running_api_url = c.ApiBaseUrl();
  o.running_admin_dsn = c.EmbeddedPostgres() ? c.AdminDsn() : c.DatabaseDsn();
  o.running_dsn = c.DatabaseDsn();
  o.users = options.users;
  o.events = options.events;
  o.ballast_mb = options.ballast_mb;
  o.rto_objective_seconds = c.drill.rto_objective_seconds;
  o.rpo_objective_seconds = c.drill.rpo_objective_seconds;
  o.heartbeat_interval = std::chrono::milliseconds(c.drill.heartbeat_interval_ms);
  o.tester = Tester();
  o.version = kVersion;

  // Ctrl-C or SIGTERM must not leave a throwaway deployment's servers running: the drill's
  // cleanup runs on the watcher thread, then the process exits 130 (no record is logged).
  sigset_t stop_signals = BlockStopSignals();
  StopSignalWatcher interrupt(stop_signals, ctx.log, "drill interrupted", [] {
    std::fprintf(stderr, "interrupted: cleaning up\n");
    std::string what = dr::CleanUpInterruptedDrill();
    if (!what.empty()) std::fprintf(stderr, "%s\n", what.c_str());
    std::fflush(stderr);
    ::_exit(kExitInterrupted);
  });

  dr::Progress progress(ctx.json);
  progress.Step("drill " + options.name + " starts");
  dr::DrillOutcome outcome = dr::RunDrill(o, progress);

  // The record goes into this deployment's repository: the drill's own deployment (and its
  // repository) is gone by now unless --keep.
  const std::string repo = c.BackupRepoPaths().front();
  Status logged = dr::AppendDrillRecord(repo, outcome.record);
  if (logged.ok()) {
    progress.Step("appended the record to " + dr::DrillLogPath(repo));
  } else {
    progress.Step("warning: could not append to the drill log: " + logged.message());
  }

  const dr::DrillRecord& r = outcome.record;
  if (ctx.json) {
    json doc = json::parse(dr::DrillRecordToJson(r));
    doc["ok"] = r.passed;
    doc["log"] = logged.ok() ? dr::DrillLogPath(repo) : "";
    if (!logged.ok()) doc["log_error"] = logged.message();
    if (!outcome.kept_home.empty()) doc["kept_home"] = outcome.kept_home;
    std::printf("%s\n", doc.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    auto secs = [](const std::optional<double>& v) {
      char buf[32];
      if (!v) return std::string("-");
      std::snprintf(buf, sizeof buf, "%.2f s", *v);
      return std::string(buf);
    };
    std::printf(
        "\nverdict: %s  drill %s  RTO %s  RPO %s  (%lld of %lld acknowledged writes lost)\n",
        r.passed ? "PASS" : "FAIL", r.drill.c_str(), secs(r.rto_seconds).c_str(),
        secs(r.rpo_seconds).c_str(), static_cast<long long>(r.acknowledged_lost),
        static_cast<long long>(r.heartbeats_acknowledged));
    if (!r.passed) std::printf("notes: %s\n", r.notes.c_str());
    std::printf("report: auri drill report\n");
  }
  if (!outcome.status.ok()) return ReportFailure(outcome.status);
  if (!logged.ok()) return ReportFailure(logged.WithContext("appending to the drill log"));
  return r.passed ? kExitOk : kExitCheckFailed;
}

}  // namespace auri
