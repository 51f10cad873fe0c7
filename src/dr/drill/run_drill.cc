#include "dr/drill/run_drill.h"

#include <signal.h>
#include <sys/shm.h>

#include <cinttypes>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "common/fs.h"
#include "common/random.h"
#include "dr/checklist/http_call.h"
#include "dr/drill/drill_deployment.h"
#include "dr/drill/heartbeat.h"
#include "dr/drill/seed_data.h"
#include "dr/restore/restore_instance.h"
#include "stack/postgres_server.h"
#include "stack/process.h"

namespace auri::dr {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// What an interrupted drill must undo (see CleanUpInterruptedDrill): set while the drill owns
// something outside its process — the throwaway deployment, or on the running deployment the
// restored instance and the scratch directory. Whoever takes it (the drill's own cleanup or the
// interrupt) runs it; the mutex makes sure exactly one does, and that the drill's objects are
// not destroyed while an interrupt uses them.
std::mutex g_interrupt_mu;
std::function<std::string()> g_interrupt_cleanup;

void SetInterruptCleanup(std::function<std::string()> f) {
  std::lock_guard<std::mutex> lock(g_interrupt_mu);
  g_interrupt_cleanup = std::move(f);
}

// True when the caller took the duty to clean up (no interrupt got there first).
bool TakeInterruptCleanup() {
  std::lock_guard<std::mutex> lock(g_interrupt_mu);
  bool had = static_cast<bool>(g_interrupt_cleanup);
  g_interrupt_cleanup = nullptr;
  return had;
}

constexpr int64_t kMarkerAgentId = 8005;
constexpr const char* kMarkerKey = "auri.drill.marker";

// The tables whose row counts must survive a restore unchanged (seed Test 1's "all tables present
// with expected row counts"). Events exclude the drill's own heartbeats and markers (chain
// kHeartbeatChainId): those are judged by RPO and exactness instead.
const std::vector<std::pair<std::string, std::string>> kCountedTables = {
    {"users", "SELECT count(*) FROM users"},
    {"organizations", "SELECT count(*) FROM organizations"},
    {"organization_members", "SELECT count(*) FROM organization_members"},
    {"api_keys", "SELECT count(*) FROM api_keys"},
    {"triggers", "SELECT count(*) FROM triggers"},
    {"trigger_conditions", "SELECT count(*) FROM trigger_conditions"},
    {"trigger_actions", "SELECT count(*) FROM trigger_actions"},
    {"events",
     "SELECT count(*) FROM events WHERE chain_id <> " + std::to_string(kHeartbeatChainId)},
};

std::string Fixed(double v, int decimals = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Mib(int64_t bytes) { return Fixed(bytes / 1048576.0, 1) + " MiB"; }

Result<std::map<std::string, int64_t>> CountRows(const std::string& dsn) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < kCountedTables.size(); ++i) {
    sql += (i ? ", (" : "(") + kCountedTables[i].second + ")";
  }
  ASSIGN_OR_RETURN(auto rows, QueryAdminSql(dsn, sql));
  std::map<std::string, int64_t> counts;
  for (size_t i = 0; i < kCountedTables.size(); ++i) {
    counts[kCountedTables[i].first] = std::atoll(rows[0][i].c_str());
  }
  return counts;
}

std::string DescribeCounts(const std::map<std::string, int64_t>& counts) {
  std::string out;
  for (const auto& [table, _] : kCountedTables) {
    auto it = counts.find(table);
    if (it == counts.end()) continue;
    out += (out.empty() ? "" : ", ") + table + " " + std::to_string(it->second);
  }
  return out;
}

Result<std::set<int64_t>> SeqsPresent(const std::string& dsn, const std::string& sql) {
  ASSIGN_OR_RETURN(auto rows, QueryAdminSql(dsn, sql, 10'000'000));
  std::set<int64_t> seqs;
  for (const auto& r : rows) seqs.insert(std::atoll(r[0].c_str()));
  return seqs;
}

std::string JoinSeqs(const std::set<int64_t>& seqs) {
  std::string out;
  for (int64_t s : seqs) out += (out.empty() ? "" : ",") + std::to_string(s);
  return out.empty() ? "none" : out;
}

class DrillRun {
 public:
  DrillRun(const DrillOptions& o, const Progress& p) : o_(o), p_(p) {}

  DrillOutcome Execute() {
    DrillOutcome out;
    rec_.drill = o_.drill;
    rec_.id = CompactNow() + "-" + o_.drill + "-" + RandomHex(3);
    rec_.started_at = FormatRfc3339(UnixMicrosNow());
    rec_.target = o_.target_running ? "running" : "throwaway";
    restored_name_ = o_.target_running ? "drill-" + RandomHex(3) : "recovered";
    rec_.tester = o_.tester;
    rec_.version = o_.version;
    run_hex_ = RandomHex(16);
    marker_hex_ = RandomHex(16);

    Status s = RunScript();
    if (heartbeats_) heartbeats_->Stop();
    if (!s.ok()) {
      rec_.error = s.ToString();
      p_.Step("drill could not complete: " + s.message());
      // After the disaster, a failure is the recovery failing: the drill ran and its verdict is
      // FAIL (exit 1). Before it, the drill could not be set up (exit 3 and the like).
      if (disaster_us_ > 0) {
        Criterion("recovery", false, s.message().substr(0, 300));
        s = CheckFailed("drill " + o_.drill + ": recovery failed: " + s.message(),
                        "see the progress above; --keep leaves the deployment for inspection");
      }
    }
    rec_.passed = rec_.error.empty() && !rec_.criteria.empty();
    for (const auto& c : rec_.criteria) rec_.passed = rec_.passed && c.passed;
    rec_.notes = Notes();
    rec_.measurements_json = m_.dump();

    (void)TakeInterruptCleanup();  // from here on this thread cleans up
    if (deployment_ && !deployment_->throwaway()) {
      // The operator's deployment: remove only what the drill added (its restored instance and
      // its scratch directory).
      if (restored_created_ && o_.keep) {
        p_.Step("kept instance '" + restored_name_ + "': auri instance remove " + restored_name_);
      } else if (restored_created_) {
        auto removed = deployment_->AuriOk({"instance", "remove", restored_name_}, seconds(120));
        p_.Step(removed.ok() ? "removed instance '" + restored_name_ + "'"
                             : "warning: " + removed.status().message());
      }
      if (!work_dir_.empty())
        (void)RunCommand({"/bin/rm", "-rf", "--", work_dir_}, "", seconds(60));
    } else if (deployment_) {
      if (o_.keep) {
        out.kept_home = deployment_->home();
        p_.Step("kept the deployment: " + deployment_->home() + "/auri status | down");
      } else {
        Status removed = deployment_->Remove();
        p_.Step(removed.ok() ? "removed the throwaway deployment"
                             : "warning: cleanup incomplete: " + removed.message());
      }
    }
    rec_.finished_at = FormatRfc3339(UnixMicrosNow());
    out.record = rec_;
    out.status = s;
    return out;
  }

 private:
  static std::string CompactNow() {
    std::string t = FormatRfc3339(UnixMicrosNow());  // 2026-11-26T00:38:05.123456Z
    std::string out;
    for (char c : t.substr(0, 19)) {
      if (c != '-' && c != ':') out += c;
    }
    return out + "Z";
  }

  Status RunScript() {
    if (o_.target_running) {
      if (o_.drill == "snapshot-restore") return SnapshotRestoreRunning();
      return FailedPrecondition("drill '" + o_.drill + "' cannot run on the running deployment");
    }
    if (o_.drill == "snapshot-restore") return SnapshotRestore();
    if (o_.drill == "pitr") return Pitr();
    return InvalidArgument("unknown drill '" + o_.drill + "'");
  }

  double Elapsed(int64_t from_us) const { return (UnixMicrosNow() - from_us) / 1e6; }

  void Criterion(const std::string& name, bool passed, const std::string& detail) {
    rec_.criteria.push_back({name, passed, detail});
    p_.Step(std::string(passed ? "  pass  " : "  FAIL  ") + name + ": " + detail);
  }

  std::string Notes() const {
    std::string failed;
    for (const auto& c : rec_.criteria) {
      if (!c.passed) failed += (failed.empty() ? "" : "; ") + c.name + ": " + c.detail;
    }
    if (!rec_.error.empty()) return "did not complete: " + rec_.error.substr(0, 200);
    if (!failed.empty()) return "failed " + failed;
    std::string notes;
    if (m_.contains("restore_mb_per_second")) {
      notes = "restore " + Fixed(m_["restore_seconds"].get<double>()) + " s at " +
              Fixed(m_["restore_mb_per_second"].get<double>(), 0) + " MB/s of " +
              Mib(m_.value("backup_bytes", int64_t{0}));
    }
    notes += (notes.empty() ? "" : "; ") + std::to_string(rec_.acknowledged_lost) + " of " +
             std::to_string(rec_.heartbeats_acknowledged) + " acknowledged heartbeats lost";
    if (m_.contains("verify_rows_passed")) {
      notes += "; verify " + std::to_string(m_["verify_rows_passed"].get<int>()) + "/" +
               std::to_string(m_["verify_rows"].get<int>());
    }
    return notes;
  }

  // --- steps shared by the drills ---

  Status Build() {
    DrillDeploymentOptions t;
    t.auri_exe = o_.auri_exe;
    t.config_args = o_.config_args;
    t.tmp_parent = o_.tmp_parent;
    t.superuser = o_.superuser;
    t.database = o_.database;
    ASSIGN_OR_RETURN(DrillDeployment d, DrillDeployment::CreateThrowaway(t));
    deployment_ = std::make_unique<DrillDeployment>(std::move(d));
    if (!o_.keep) {
      SetInterruptCleanup([d = deployment_.get()] {
        Status removed = d->Remove();
        return removed.ok() ? "removed the throwaway deployment " + d->home()
                            : "cleanup incomplete (" + removed.message() + "): remove " +
                                  d->home() + " by hand";
      });
    }
    RETURN_IF_ERROR(deployment_->WriteWrapper());
    p_.Step("building a throwaway deployment in " + deployment_->home() + " (api " +
            deployment_->ApiUrl() + ", postgres port " +
            std::to_string(deployment_->postgres_port()) + ")");
    int64_t t0 = UnixMicrosNow();
    RETURN_IF_ERROR(deployment_->Up());
    m_["up_seconds"] = Elapsed(t0);
    p_.Step("deployment up in " + Fixed(Elapsed(t0), 1) + " s");
    return Status::Ok();
  }

  Status Seed() {
    ASSIGN_OR_RETURN(token_, deployment_->IngestToken());
    SeedOptions s;
    s.api_url = deployment_->ApiUrl();
    s.ingest_token = token_;
    s.users = o_.users;
    s.triggers_per_user = o_.triggers_per_user;
    s.events = o_.events;
    ASSIGN_OR_RETURN(seed_, SeedThroughApi(s));
    m_["seed"] = DescribeSeed(seed_);
    p_.Step("seeded through the API: " + DescribeSeed(seed_));
    if (o_.ballast_mb > 0) {
      // Bulk data for measuring restore speed at size: one table of incompressible-ish text
      // rows (md5 hex), ~1 KiB each, written with SQL (the API would take minutes for a GiB).
      int64_t rows = int64_t{o_.ballast_mb} * 1024;
      int64_t t0 = UnixMicrosNow();
      RETURN_IF_ERROR(ExecuteAdminSql(
          deployment_->Dsn(),
          "CREATE TABLE drill_ballast (id bigint PRIMARY KEY, pad text NOT NULL); "
          "INSERT INTO drill_ballast SELECT i, (SELECT string_agg(md5(random()::text || i || k), "
          "'') FROM generate_series(1, 30) k) FROM generate_series(1, " +
              std::to_string(rows) + ") i"));
      p_.Step("added " + std::to_string(o_.ballast_mb) + " MiB of ballast rows in " +
              Fixed(Elapsed(t0), 1) + " s");
    }
    ASSIGN_OR_RETURN(auto size, QueryAdminSql(deployment_->Dsn(),
                                              "SELECT pg_database_size(current_database())"));
    m_["database_bytes"] = std::atoll(size[0][0].c_str());
    return Status::Ok();
  }

  Status StartHeartbeats() {
    HeartbeatOptions h;
    h.api_url = deployment_->ApiUrl();
    h.ingest_token = token_;
    h.run_hex = run_hex_;
    h.interval = o_.heartbeat_interval;
    heartbeats_ = std::make_unique<HeartbeatWriter>(h);
    int64_t t0 = UnixMicrosNow();
    heartbeats_->Start();
    RETURN_IF_ERROR(heartbeats_->WaitForAck(t0, seconds(10)).status());
    p_.Step("heartbeat writer running: one event every " +
            std::to_string(o_.heartbeat_interval.count()) +
            " ms through POST /api/v1/events, each 202 recorded");
    return Status::Ok();
  }

  Status Backup() {
    int64_t t0 = UnixMicrosNow();
    ASSIGN_OR_RETURN(CommandResult r,
                     deployment_->AuriOk({"backup", "create", "--type", "full", "--label",
                                          "drill-" + o_.drill, "--json"},
                                         seconds(3600)));
    json doc = json::parse(LastJsonDocument(r.output), nullptr, false);
    if (!doc.is_object() || !doc.contains("backups") || doc["backups"].empty()) {
      return Internal("`auri backup create --json` printed no backup: " + r.output.substr(0, 300));
    }
    const json& b = doc["backups"][0];
    m_["backup_id"] = b.value("id", "");
    m_["backup_bytes"] = b.value("size_bytes", int64_t{0});
    m_["backup_seconds"] = b.value("seconds", 0.0);
    p_.Step("backup " + b.value("id", std::string()) + ": " +
            Mib(b.value("size_bytes", int64_t{0})) + " in " + Fixed(b.value("seconds", 0.0), 1) +
            " s (" + Fixed(Elapsed(t0), 1) + " s with the command)");
    return Status::Ok();
  }

  Status RecordManifest() {
    manifest_file_ =
        (work_dir_.empty() ? deployment_->home() : work_dir_) + "/manifest-before.json";
    RETURN_IF_ERROR(
        deployment_->AuriOk({"manifest", "create", "--out", manifest_file_}, seconds(60)).status());
    ASSIGN_OR_RETURN(counts_before_, CountRows(deployment_->Dsn()));
    p_.Step("manifest recorded; row counts: " + DescribeCounts(counts_before_));
    return Status::Ok();
  }

  // Restores into a new instance and returns its DSN; fills the restore measurements.
  Result<std::string> Restore(const std::vector<std::string>& target) {
    std::vector<std::string> args = {"restore", "--as", restored_name_, "--json"};
    restored_created_ = true;
    args.insert(args.end(), target.begin(), target.end());
    int64_t t0 = UnixMicrosNow();
    ASSIGN_OR_RETURN(CommandResult r, deployment_->Auri(args, seconds(3600)));
    json doc = json::parse(LastJsonDocument(r.output), nullptr, false);
    if ((r.exit_code != 0 && r.exit_code != 1) || !doc.is_object() || !doc.contains("dsn")) {
      return Unavailable("`auri restore` failed (exit " + std::to_string(r.exit_code) + "):\n" +
                         r.output.substr(r.output.size() > 1500 ? r.output.size() - 1500 : 0));
    }
    double restore_s = doc.value("restore_seconds", 0.0);
    int64_t bytes = m_.value("backup_bytes", int64_t{0});
    m_["restore_seconds"] = restore_s;
    m_["recovery_seconds"] = doc.value("recovery_seconds", 0.0);
    m_["restore_command_seconds"] = Elapsed(t0);
    m_["restore_mb_per_second"] = restore_s > 0 ? bytes / 1e6 / restore_s : 0.0;
    integrity_passed_ = doc["integrity"].value("passed", false);
    std::string failed;
    for (const auto& c : doc["integrity"].value("checks", json::array())) {
      if (!c.value("passed", false)) failed += (failed.empty() ? "" : "; ") + c.value("name", "");
    }
    integrity_detail_ = integrity_passed_ ? std::to_string(doc["integrity"]["checks"].size()) +
                                                " checks passed (amcheck, constraints, schema, "
                                                "invariants)"
                                          : "failed: " + failed;
    p_.Step("restored '" + restored_name_ + "' (" + doc.value("target", "") + "): files in " +
            Fixed(restore_s) + " s (" + Fixed(m_["restore_mb_per_second"].get<double>(), 0) +
            " MB/s), recovery " + Fixed(doc.value("recovery_seconds", 0.0)) +
            " s; integrity checks " + (integrity_passed_ ? "passed" : "FAILED"));
    return doc["dsn"].get<std::string>();
  }

  // Recovery when the primary is lost: the restore runs while the broken services are stopped
  // (an operator does both at once; neither needs the other). From the moment the old services are
  // gone, only the recovered deployment can acknowledge a heartbeat.
  Result<std::string> RestoreWhileStoppingServices(const std::vector<std::string>& target) {
    int64_t t0 = UnixMicrosNow();
    int64_t stopped_us = 0;
    // The future's destructor waits, so an early return below cannot leave the thread running.
    std::future<Status> stopping = std::async(std::launch::async, [this, &stopped_us] {
      Status s = deployment_->Down();
      stopped_us = UnixMicrosNow();
      return s;
    });
    Result<std::string> dsn = Restore(target);
    Status stopped = stopping.get();
    RETURN_IF_ERROR(stopped.WithContext("stopping the services of the damaged deployment"));
    serving_from_us_ = stopped_us;
    m_["down_seconds"] = (stopped_us - t0) / 1e6;
    p_.Step("old services stopped (" + Fixed((stopped_us - t0) / 1e6, 1) +
            " s, alongside the restore)");
    return dsn;
  }

  // Recovery when the primary still runs (accidental deletion): restore first, then stop the
  // services of the damaged deployment.
  Result<std::string> RestoreThenStopServices(const std::vector<std::string>& target) {
    ASSIGN_OR_RETURN(std::string dsn, Restore(target));
    int64_t t0 = UnixMicrosNow();
    RETURN_IF_ERROR(
        deployment_->Down().WithContext("stopping the services of the damaged deployment"));
    serving_from_us_ = UnixMicrosNow();
    m_["down_seconds"] = Elapsed(t0);
    p_.Step("old services stopped in " + Fixed(Elapsed(t0), 1) + " s");
    return dsn;
  }

  // The recovery's last step: the services start on the restored database.
  Status StartServicesOn(const std::string& dsn) {
    deployment_->UseDatabase(dsn);
    RETURN_IF_ERROR(deployment_->WriteWrapper());
    int64_t t1 = UnixMicrosNow();
    RETURN_IF_ERROR(deployment_->Up());
    m_["restart_seconds"] = Elapsed(t1);
    p_.Step("services started on the restored database in " + Fixed(Elapsed(t1), 1) + " s");
    ASSIGN_OR_RETURN(HeartbeatAttempt first,
                     heartbeats_->WaitForAck(serving_from_us_, seconds(60)));
    (void)first;
    auto rto = MeasureRto(heartbeats_->Attempts(), disaster_us_, serving_from_us_);
    rec_.rto_seconds = rto;
    if (rto) p_.Step("first write acknowledged after the disaster: RTO " + Fixed(*rto) + " s");
    return Status::Ok();
  }

  Status Verify() {
    int64_t t0 = UnixMicrosNow();
    ASSIGN_OR_RETURN(
        CommandResult r,
        deployment_->Auri({"verify", "--json", "--manifest", manifest_file_}, seconds(180)));
    json doc = json::parse(LastJsonDocument(r.output), nullptr, false);
    if (!doc.is_object() || !doc.contains("checks")) {
      return Unavailable("`auri verify` printed no result (exit " + std::to_string(r.exit_code) +
                         "): " + r.output.substr(0, 500));
    }
    int rows = 0, passed = 0;
    std::string failed;
    for (const auto& c : doc["checks"]) {
      ++rows;
      if (c.value("passed", false)) {
        ++passed;
      } else {
        failed += (failed.empty() ? "" : "; ") + c.value("check", "") + ": " +
                  c.value("detail", "") +
                  (c.contains("hint") ? " (hint: " + c.value("hint", "") + ")" : "");
      }
    }
    m_["verify_rows"] = rows;
    m_["verify_rows_passed"] = passed;
    m_["verify_seconds"] = Elapsed(t0);
    m_["verified_seconds_after_disaster"] = Elapsed(disaster_us_);
    verify_passed_ = r.exit_code == 0 && passed == rows && rows > 0;
    verify_detail_ = std::to_string(passed) + "/" + std::to_string(rows) +
                     " checklist rows passed" + (failed.empty() ? "" : ": " + failed);
    p_.Step("auri verify: " + verify_detail_ + " (" + Fixed(Elapsed(t0), 1) + " s)");
    return Status::Ok();
  }

  void JudgeRecovery(const std::set<int64_t>& present) {
    HeartbeatLoss loss = MeasureLoss(heartbeats_->Attempts(), disaster_us_, present);
    rec_.heartbeats_acknowledged = loss.acknowledged_before;
    rec_.acknowledged_lost = loss.lost;
    rec_.rpo_seconds = loss.rpo_seconds;
    m_["heartbeats_sent"] = heartbeats_->Attempts().size();
    m_["heartbeat_newest_acknowledged_seq"] = loss.newest_acknowledged_seq;
    m_["heartbeat_newest_present_seq"] = loss.newest_present_seq;
    p_.Step("heartbeats: " + std::to_string(loss.acknowledged_before) +
            " acknowledged before the disaster, " + std::to_string(loss.lost) +
            " of them missing after recovery (newest acknowledged #" +
            std::to_string(loss.newest_acknowledged_seq) + ", newest present #" +
            std::to_string(loss.newest_present_seq) + ")");
  }

  void JudgeRto() {
    Criterion("rto", rec_.rto_seconds && *rec_.rto_seconds <= o_.rto_objective_seconds,
              rec_.rto_seconds ? "disaster → first acknowledged write " + Fixed(*rec_.rto_seconds) +
                                     " s (objective ≤ " + Fixed(o_.rto_objective_seconds, 0) + " s)"
                               : "no write was acknowledged after the recovery");
  }

  void JudgeCounts(std::map<std::string, int64_t> after) {
    if (!deployment_->throwaway()) {
      // A live deployment keeps ingesting: only the configuration tables must be equal.
      counts_before_.erase("events");
      after.erase("events");
    }
    std::string diff;
    for (const auto& [table, n] : counts_before_) {
      auto it = after.find(table);
      int64_t got = it == after.end() ? -1 : it->second;
      if (got != n) {
        diff += (diff.empty() ? "" : ", ") + table + " " + std::to_string(got) + " vs " +
                std::to_string(n);
      }
    }
    Criterion("row_counts", diff.empty(),
              diff.empty() ? "equal to before the disaster: " + DescribeCounts(after)
                           : "differ (restored vs before): " + diff);
  }

  // --- snapshot-restore (seed Test 1) ---

  Status SnapshotRestore() {
    RETURN_IF_ERROR(Build());
    RETURN_IF_ERROR(Seed());
    RETURN_IF_ERROR(StartHeartbeats());
    RETURN_IF_ERROR(Backup());
    RETURN_IF_ERROR(RecordManifest());
    // Writes after the backup reach the repository only through WAL archiving: let some
    // happen, so the restore has to replay archived WAL and the RPO measures archiving.
    std::this_thread::sleep_for(o_.settle);

    // The disaster: the primary and its disk are gone; only the backup repository survives.
    ASSIGN_OR_RETURN(pid_t postgres, deployment_->ComponentPid("postgres"));
    // A postmaster killed with SIGKILL leaves its (small) System V shared memory segment behind,
    // and with the data directory gone no later postmaster reclaims it: note its id (line 7 of
    // postmaster.pid: "key id") to remove it afterwards.
    int shm_id = -1;
    if (auto pid_file = ReadFileLimited(deployment_->DataDir() + "/postmaster.pid", 4096);
        pid_file.ok()) {
      std::istringstream lines(*pid_file);
      std::string line;
      for (int i = 1; i <= 7 && std::getline(lines, line); ++i) {
        long key = 0, id = -1;
        if (i == 7 && std::sscanf(line.c_str(), "%ld %ld", &key, &id) == 2)
          shm_id = static_cast<int>(id);
      }
    }
    disaster_us_ = UnixMicrosNow();
    if (::kill(postgres, SIGKILL) != 0) return Internal("kill(postgres) failed");
    RETURN_IF_ERROR(WaitUntilGone(postgres, seconds(10)));
    auto rm = RunCommand({"/bin/rm", "-rf", "--", deployment_->DataDir()}, "", seconds(60));
    if (!rm.ok() || rm->exit_code != 0) return Internal("cannot delete the data directory");
    if (shm_id >= 0) (void)::shmctl(shm_id, IPC_RMID, nullptr);  // freed when the last detaches
    p_.Step("DISASTER: postgresql (pid " + std::to_string(postgres) +
            ") killed with SIGKILL and its data directory deleted");

    // Recovery: everything the repository holds, into a new instance.
    ASSIGN_OR_RETURN(std::string dsn, RestoreWhileStoppingServices({"--latest"}));
    ASSIGN_OR_RETURN(std::set<int64_t> present, SeqsPresent(dsn, HeartbeatSeqQuery(run_hex_)));
    ASSIGN_OR_RETURN(auto counts_after, CountRows(dsn));
    RETURN_IF_ERROR(StartServicesOn(dsn));
    RETURN_IF_ERROR(Verify());
    heartbeats_->Stop();
    JudgeRecovery(present);

    p_.Step("success criteria:");
    Criterion("integrity", integrity_passed_, integrity_detail_);
    JudgeCounts(counts_after);
    Criterion("verify", verify_passed_, verify_detail_);
    JudgeRto();
    JudgeRpo();
    return Status::Ok();
  }

  // --- snapshot-restore --target-running (seed Test 1 as written: non-destructive) ---
  //
  // Nothing of the running deployment is stopped or deleted: the "disaster" is the moment the
  // primary is taken as lost, the recovery is `auri restore --latest` into a new instance (which
  // flushes the primary's WAL first), judged by integrity checks, configuration row counts and
  // heartbeat loss; `auri verify` checks the live deployment. No services are switched, so no RTO
  // is recorded: the time to a writable, checked copy is in the measurements. The heartbeats stay
  // in the live events table (the probe chain, agent 8004; events retention removes them).
  Status SnapshotRestoreRunning() {
    DrillDeploymentOptions t;
    t.auri_exe = o_.auri_exe;
    t.config_args = o_.config_args;
    t.superuser = o_.superuser;
    t.database = o_.database;
    deployment_ = std::make_unique<DrillDeployment>(DrillDeployment::AttachRunning(
        t, o_.running_home, o_.running_api_url, o_.running_admin_dsn, o_.running_dsn));
    std::string tmpl = o_.tmp_parent + "/auri-drill-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) return ErrnoStatus("mkdtemp", tmpl);
    work_dir_ = buf.data();
    if (!o_.keep) {
      // Only what the drill added: its instance (if the restore got that far) and scratch files.
      SetInterruptCleanup([d = deployment_.get(), name = restored_name_, dir = work_dir_] {
        auto removed = d->Auri({"instance", "remove", name}, seconds(120));
        (void)RunCommand({"/bin/rm", "-rf", "--", dir}, "", seconds(60));
        return "removed " + dir +
               (removed.ok() && removed->exit_code == 0
                    ? " and instance '" + name + "'"
                    : "; check `auri instance list` for '" + name + "'");
      });
    }
    p_.Step("drilling the running deployment at " + deployment_->ApiUrl() +
            ": nothing is stopped or deleted; the restore goes into a new instance '" +
            restored_name_ + "'");
    ASSIGN_OR_RETURN(token_, deployment_->IngestToken());
    RETURN_IF_ERROR(StartHeartbeats());
    RETURN_IF_ERROR(RecordManifest());
    std::this_thread::sleep_for(o_.settle);

    // The restore starts from the newest backup: its size gives the restore rate.
    ASSIGN_OR_RETURN(CommandResult listed,
                     deployment_->AuriOk({"backup", "list", "--json"}, seconds(120)));
    json catalog = json::parse(LastJsonDocument(listed.output), nullptr, false);
    if (!catalog.is_object() || catalog.value("backups", json::array()).empty()) {
      return FailedPrecondition("the running deployment has no backup to restore",
                                "take one with `auri backup create`");
    }
    const json& newest = catalog["backups"].back();
    m_["backup_id"] = newest.value("id", "");
    m_["backup_bytes"] = newest.value("size_bytes", int64_t{0});

    disaster_us_ = UnixMicrosNow();
    p_.Step(
        "simulated loss of the primary (nothing is destroyed); restoring everything archived "
        "on top of backup " +
        newest.value("id", std::string()));
    ASSIGN_OR_RETURN(std::string dsn, Restore({"--latest"}));
    m_["restore_to_checked_seconds"] = Elapsed(disaster_us_);
    ASSIGN_OR_RETURN(std::set<int64_t> present, SeqsPresent(dsn, HeartbeatSeqQuery(run_hex_)));
    ASSIGN_OR_RETURN(auto counts_after, CountRows(dsn));
    RETURN_IF_ERROR(Verify());
    heartbeats_->Stop();
    JudgeRecovery(present);

    p_.Step("success criteria:");
    Criterion("integrity", integrity_passed_, integrity_detail_);
    JudgeCounts(counts_after);
    Criterion("verify", verify_passed_, verify_detail_);
    JudgeRpo();
    return Status::Ok();
  }

  void JudgeRpo() {
    Criterion("rpo", rec_.rpo_seconds && *rec_.rpo_seconds <= o_.rpo_objective_seconds,
              rec_.rpo_seconds ? std::to_string(rec_.acknowledged_lost) +
                                     " acknowledged writes lost = " + Fixed(*rec_.rpo_seconds) +
                                     " s (objective ≤ " + Fixed(o_.rpo_objective_seconds, 0) + " s)"
                               : "no heartbeat was acknowledged before the disaster");
  }

  // --- pitr (seed Scenario 5: accidental deletion) ---

  // Writes marker `n` through the API and returns once it is acknowledged (committed).
  Status WriteMarker(int64_t n) {
    char tail[40];
    std::snprintf(tail, sizeof tail, "%032" PRIx64, static_cast<uint64_t>(n));
    json value = {{"marker", n}, {"written_at", FormatRfc3339(UnixMicrosNow())}};
    json event = {{"chain_id", kHeartbeatChainId},
                  {"block_number", n},
                  {"block_hash", nullptr},
                  {"transaction_hash", "0x" + marker_hex_ + tail},
                  {"log_index", 0},
                  {"registry", "identity"},
                  {"event_type", "MetadataSet"},
                  {"agent_id", kMarkerAgentId},
                  {"timestamp", UnixMicrosNow() / 1000000},
                  {"metadata_key", kMarkerKey},
                  {"metadata_value", value.dump()}};
    auto r = HttpCall("POST", deployment_->ApiUrl() + "/api/v1/events",
                      {"Authorization: Bearer " + token_}, event.dump(), milliseconds(10000));
    if (!r.ok()) return r.status().WithContext("writing marker " + std::to_string(n));
    if (r->status != 202) {
      return Unavailable("marker " + std::to_string(n) + " was refused: HTTP " +
                         std::to_string(r->status) + " " + r->body.substr(0, 200));
    }
    return Status::Ok();
  }

  std::string MarkerQuery() const {
    return "SELECT block_number FROM events WHERE chain_id = " + std::to_string(kHeartbeatChainId) +
           " AND agent_id = " + std::to_string(kMarkerAgentId) + " AND transaction_hash LIKE '0x" +
           marker_hex_ + "%' ORDER BY 1";
  }

  Result<int64_t> DatabaseNowMicros() {
    ASSIGN_OR_RETURN(auto rows, QueryAdminSql(deployment_->AdminDsn(),
                                              "SELECT (extract(epoch FROM clock_timestamp()) * "
                                              "1000000)::bigint"));
    return std::atoll(rows[0][0].c_str());
  }

  Status Pitr() {
    RETURN_IF_ERROR(Build());
    RETURN_IF_ERROR(Seed());
    RETURN_IF_ERROR(StartHeartbeats());
    RETURN_IF_ERROR(Backup());
    RETURN_IF_ERROR(RecordManifest());
    // The restorable window opens at the backup's stop time rounded up to the next whole second
    // (pgBackRest records seconds): a target closer to the backup would be refused. Heartbeats
    // keep committing meanwhile.
    std::this_thread::sleep_for(std::max<milliseconds>(o_.settle, milliseconds(1500)));

    // Markers at known times, each WAL-switched into its own segment (pgBackRest's own PITR test
    // pattern): the target lies right after marker 2's commit.
    RETURN_IF_ERROR(WriteMarker(1));
    RETURN_IF_ERROR(ExecuteAdminSql(deployment_->AdminDsn(), "SELECT pg_switch_wal()"));
    RETURN_IF_ERROR(WriteMarker(2));
    ASSIGN_OR_RETURN(int64_t target_us, DatabaseNowMicros());
    p_.Step("markers 1 and 2 committed (WAL switched between them); target " +
            FormatRfc3339(target_us));

    // The disaster: one bad statement deletes every seeded organization's triggers (their
    // conditions, actions and state go with them: ON DELETE CASCADE).
    std::string orgs;
    for (const auto& id : seed_.organization_ids) orgs += (orgs.empty() ? "'" : ", '") + id + "'";
    disaster_us_ = UnixMicrosNow();
    ASSIGN_OR_RETURN(auto deleted,
                     QueryAdminSql(deployment_->Dsn(),
                                   "WITH d AS (DELETE FROM triggers WHERE organization_id IN (" +
                                       orgs + ") RETURNING 1) SELECT count(*) FROM d"));
    int64_t deleted_triggers = std::atoll(deleted[0][0].c_str());
    m_["deleted_triggers"] = deleted_triggers;
    p_.Step("DISASTER: DELETE FROM triggers removed " + std::to_string(deleted_triggers) +
            " triggers of " + std::to_string(seed_.organization_ids.size()) + " organizations");
    // Life goes on after the mistake: marker 3 is written after it (and must not come back).
    RETURN_IF_ERROR(WriteMarker(3));
    m_["target"] = FormatRfc3339(target_us);
    m_["target_before_disaster_ms"] = (disaster_us_ - target_us) / 1000.0;

    // The damaged deployment keeps running during the restore: `auri restore` reads the
    // restorable window from the running primary and archives its current WAL (the commit after
    // the target that recovery needs). Only then are its services stopped.
    ASSIGN_OR_RETURN(std::string dsn,
                     RestoreThenStopServices({"--time", FormatRfc3339(target_us)}));
    ASSIGN_OR_RETURN(std::set<int64_t> markers, SeqsPresent(dsn, MarkerQuery()));
    ASSIGN_OR_RETURN(std::set<int64_t> present, SeqsPresent(dsn, HeartbeatSeqQuery(run_hex_)));
    ASSIGN_OR_RETURN(auto counts_after, CountRows(dsn));
    RETURN_IF_ERROR(StartServicesOn(dsn));
    RETURN_IF_ERROR(Verify());
    heartbeats_->Stop();
    JudgeRecovery(present);
    PitrExactness exact = CheckPitrExactness(heartbeats_->Attempts(), target_us, present);
    m_["markers_present"] = JoinSeqs(markers);

    p_.Step("success criteria:");
    Criterion("integrity", integrity_passed_, integrity_detail_);
    Criterion("markers", markers == std::set<int64_t>{1, 2},
              "present: " + JoinSeqs(markers) + " (want 1,2: both before the target, 3 after)");
    int64_t triggers_back = counts_after["triggers"];
    Criterion("deleted_rows_back",
              deleted_triggers > 0 && triggers_back == counts_before_["triggers"] &&
                  counts_after["trigger_conditions"] == counts_before_["trigger_conditions"] &&
                  counts_after["trigger_actions"] == counts_before_["trigger_actions"],
              std::to_string(deleted_triggers) + " triggers deleted; restored " +
                  std::to_string(triggers_back) + " of " +
                  std::to_string(counts_before_["triggers"]) + " (conditions " +
                  std::to_string(counts_after["trigger_conditions"]) + "/" +
                  std::to_string(counts_before_["trigger_conditions"]) + ", actions " +
                  std::to_string(counts_after["trigger_actions"]) + "/" +
                  std::to_string(counts_before_["trigger_actions"]) + ")");
    Criterion(
        "heartbeats_exact",
        exact.missing_before_target == 0 && exact.present_after_target == 0 && exact.checked > 0,
        std::to_string(exact.checked) + " heartbeats on a known side of the target: " +
            std::to_string(exact.missing_before_target) + " acknowledged before it missing, " +
            std::to_string(exact.present_after_target) + " sent after it present");
    Criterion("verify", verify_passed_, verify_detail_);
    JudgeRto();
    return Status::Ok();
  }

  const DrillOptions& o_;
  const Progress& p_;
  DrillRecord rec_;
  json m_ = json::object();
  std::unique_ptr<DrillDeployment> deployment_;
  std::unique_ptr<HeartbeatWriter> heartbeats_;
  std::string run_hex_, marker_hex_, token_, manifest_file_, work_dir_, restored_name_;
  bool restored_created_ = false;
  SeedSummary seed_;
  std::map<std::string, int64_t> counts_before_;
  int64_t disaster_us_ = 0, serving_from_us_ = 0;
  bool integrity_passed_ = false, verify_passed_ = false;
  std::string integrity_detail_, verify_detail_;
};

}  // namespace

const std::vector<std::string>& KnownDrills() {
  static const std::vector<std::string> kDrills = {"snapshot-restore", "pitr"};
  return kDrills;
}

DrillOutcome RunDrill(const DrillOptions& options, const Progress& progress) {
  return DrillRun(options, progress).Execute();
}

std::string CleanUpInterruptedDrill() {
  // Held while cleaning up: the drill's thread blocks before its own cleanup (and before its
  // objects are destroyed) until the process exits.
  std::lock_guard<std::mutex> lock(g_interrupt_mu);
  if (!g_interrupt_cleanup) return "";
  return g_interrupt_cleanup();
}

}  // namespace auri::dr
