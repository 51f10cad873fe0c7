// Backups and point-in-time recovery as an operator runs them: a real `auri up` stack (PostgreSQL
// archiving through pgBackRest into two encrypted repositories) under a temporary home, driven
// with the real `auri backup` / `auri restore` commands. Restores are checked with marker rows
// written at known times (pgBackRest's own integration-test pattern): a restore to a time between
// two markers must hold exactly the markers before it.
//
// One stack and one base backup (in both repositories) serve the whole suite; each test leaves
// the repositories as it found them. Runtime ≈ 90 s (most of it backups and restores).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/fs.h"
#include "stack/postgres_server.h"
#include "stack/process.h"
#include "tests/integration/harness.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

class BackupRestoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/auri-dr-XXXXXX";
    home_ = ::mkdtemp(tmpl);
    ::chmod(home_.c_str(), 0755);
    api_port_ = testing::FreePort();
    pg_port_ = testing::FreePort();
    redis_port_ = testing::FreePort();
    processor_port_ = testing::FreePort();
    workers_port_ = testing::FreePort();
    agent_port_ = testing::FreePort();
    auto up = Auri({"up"}, seconds(120));
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    ASSERT_EQ(up->exit_code, 0) << up->output;
    ASSERT_TRUE(Sql("CREATE TABLE dr_marker (n int PRIMARY KEY, "
                    "at timestamptz NOT NULL DEFAULT clock_timestamp())")
                    .ok());
    auto backup = Auri({"backup", "create", "--label", "suite-base", "--json"}, seconds(300));
    ASSERT_TRUE(backup.ok()) << backup.status().ToString();
    ASSERT_EQ(backup->exit_code, 0) << backup->output;
    auto doc = JsonOf(backup->output);
    ASSERT_EQ(doc["backups"].size(), 2u) << backup->output;  // one per repository
    base_backup_repo1_ = doc["backups"][0]["id"];
    base_backup_repo2_ = doc["backups"][1]["id"];
  }

  static void TearDownTestSuite() {
    for (const auto& entry : fs::directory_iterator(home_ + "/instances", ec_)) {
      (void)Auri({"instance", "remove", entry.path().filename().string()}, seconds(60));
    }
    (void)Auri({"down"}, seconds(120));
    std::string cmd = "rm -rf '" + home_ + "'";
    (void)!std::system(cmd.c_str());
  }

  void TearDown() override {
    for (const auto& name : instances_) (void)Auri({"instance", "remove", name}, seconds(60));
    instances_.clear();
  }

  static Result<CommandResult> Auri(std::vector<std::string> args, milliseconds timeout) {
    std::vector<std::string> argv = {
        testing::AuriBinary(), "--set", "general.home=" + home_, "--set",
        "api.port=" + std::to_string(api_port_), "--set",
        "postgres.port=" + std::to_string(pg_port_), "--set",
        "redis.port=" + std::to_string(redis_port_), "--set",
        "processor.metrics_port=" + std::to_string(processor_port_), "--set",
        "delivery.metrics_port=" + std::to_string(workers_port_), "--set",
        "dr_agent.metrics_port=" + std::to_string(agent_port_),
        // Only the backups this suite takes: the dr-agent stays idle.
        "--set", "backup.full_schedule=off", "--set", "backup.incr_schedule=off"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", timeout);
  }

  // The last JSON document of a command's output (progress lines go to stderr, which RunCommand
  // merges in front of it).
  static nlohmann::json JsonOf(const std::string& output) {
    size_t start = output.rfind('{', 0) == 0 ? 0 : output.find("\n{");
    size_t end = output.rfind("\n}");
    if (start == std::string::npos || end == std::string::npos) return nullptr;
    if (start > 0) ++start;
    return nlohmann::json::parse(output.substr(start, end + 2 - start), nullptr, false);
  }

  static std::string Dsn() {
    return "host=127.0.0.1 port=" + std::to_string(pg_port_) +
           " user=postgres dbname=auri connect_timeout=5";
  }
  static Status Sql(const std::string& sql) { return ExecuteAdminSql(Dsn(), sql); }
  static std::string Scalar(const std::string& dsn, const std::string& sql) {
    auto rows = QueryAdminSql(dsn, sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() && !rows->empty() ? (*rows)[0][0] : "";
  }

  // Inserts marker n (its own transaction) and returns the server's time right after its commit,
  // as RFC 3339: a target between this marker's commit and the next one's.
  static std::string WriteMarker(int n) {
    EXPECT_TRUE(Sql("INSERT INTO dr_marker (n) VALUES (" + std::to_string(n) + ")").ok());
    return Scalar(Dsn(),
                  "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                  "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  }

  // Restores with `args`, expects success, and returns the restored instance's DSN.
  std::string Restore(const std::string& name, std::vector<std::string> args) {
    instances_.push_back(name);
    std::vector<std::string> all = {"restore", "--as", name, "--json"};
    all.insert(all.end(), args.begin(), args.end());
    auto r = Auri(all, seconds(300));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << r->output;
    if (getenv("AURI_TEST_VERBOSE")) std::cerr << r->output;
    auto doc = JsonOf(r->output);
    EXPECT_TRUE(doc.is_object()) << r->output;
    if (!doc.is_object()) return "";
    EXPECT_EQ(doc["integrity"]["passed"], true) << r->output;
    return doc.value("dsn", "");
  }

  static std::string Markers(const std::string& dsn) {
    return Scalar(dsn, "SELECT coalesce(string_agg(n::text, ',' ORDER BY n), '') FROM dr_marker");
  }

  static inline std::string home_;
  static inline int api_port_ = 0, pg_port_ = 0, redis_port_ = 0, processor_port_ = 0,
                    workers_port_ = 0, agent_port_ = 0;
  static inline std::string base_backup_repo1_, base_backup_repo2_;
  static inline std::error_code ec_;
  std::vector<std::string> instances_;
};

TEST_F(BackupRestoreTest, TimeTargetRestoresExactlyTheMarkersCommittedBeforeIt) {
  ASSERT_TRUE(Sql("TRUNCATE dr_marker").ok());
  std::string after_1 = WriteMarker(1);
  ASSERT_TRUE(Sql("SELECT pg_switch_wal()").ok());
  std::string after_2 = WriteMarker(2);
  ASSERT_TRUE(Sql("SELECT pg_switch_wal()").ok());
  WriteMarker(3);

  EXPECT_EQ(Markers(Restore("pitr-after-1", {"--time", after_1})), "1");
  EXPECT_EQ(Markers(Restore("pitr-after-2", {"--time", after_2})), "1,2");
}

TEST_F(BackupRestoreTest, LatestRestoresEveryCommittedMarker) {
  ASSERT_TRUE(Sql("TRUNCATE dr_marker").ok());
  WriteMarker(1);
  WriteMarker(2);  // committed a moment before the restore: still there (the primary is flushed)
  EXPECT_EQ(Markers(Restore("latest", {"--latest"})), "1,2");
}

TEST_F(BackupRestoreTest, BackupTargetRestoresTheStateAtTheEndOfThatBackup) {
  // The base backup was taken right after the marker table was created, before any marker.
  ASSERT_TRUE(Sql("INSERT INTO dr_marker (n) VALUES (99) ON CONFLICT DO NOTHING").ok());
  std::string dsn = Restore("at-backup", {"--backup", base_backup_repo1_});
  EXPECT_EQ(Markers(dsn), "");
  EXPECT_EQ(Scalar(dsn, "SELECT pg_is_in_recovery()"), "f");  // promoted: accepts writes
}

TEST_F(BackupRestoreTest, TargetOutsideTheRestorableWindowIsRefusedWithTheWindow) {
  auto before =
      Auri({"restore", "--as", "too-early", "--time", "2001-01-01T00:00:00Z"}, seconds(120));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->exit_code, 4) << before->output;
  EXPECT_NE(before->output.find("outside the restorable window"), std::string::npos)
      << before->output;
  EXPECT_NE(before->output.find(" .. "), std::string::npos) << before->output;

  auto future =
      Auri({"restore", "--as", "too-late", "--time", "2999-01-01T00:00:00Z"}, seconds(120));
  ASSERT_TRUE(future.ok());
  EXPECT_EQ(future->exit_code, 4) << future->output;
  EXPECT_FALSE(fs::exists(home_ + "/instances/too-early"));
  EXPECT_FALSE(fs::exists(home_ + "/instances/too-late"));
}

TEST_F(BackupRestoreTest, StatusReportsBackupsArchivingAndTheWindow) {
  auto r = Auri({"dr", "status", "--json"}, seconds(60));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->output;
  auto doc = JsonOf(r->output);
  ASSERT_TRUE(doc.is_object()) << r->output;
  EXPECT_GE(doc["backups"].get<int>(), 2);
  EXPECT_GE(doc["seconds_since_last_backup"].get<double>(), 0.0);
  EXPECT_EQ(doc["archiving"]["failing"], false) << r->output;
  EXPECT_FALSE(doc["restorable_window"].is_null()) << r->output;
  EXPECT_EQ(doc["repositories"].size(), 2u);
}

TEST_F(BackupRestoreTest, InPlaceRestoreIsRefusedWithoutForce) {
  auto r = Auri({"restore", "--as", "x", "--in-place"}, seconds(30));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 4) << r->output;
  EXPECT_NE(r->output.find("refusing to restore in place"), std::string::npos) << r->output;
}

TEST_F(BackupRestoreTest, BackupTakenDuringIngestionRestoresConsistently) {
  // Real ingestion (auri ingest → api-gateway → events + event_queue) runs while the backup runs.
  const std::string tx = "0x649c52c62f380f9dd4ca8c0e21e2e5a667db8ccb38794354ff07d2dc7bc795bc";
  std::string file = home_ + "/events.jsonl";
  {
    std::ofstream out(file);
    for (int i = 0; i < 3000; ++i) {
      nlohmann::json e = {{"id", "identity-11155111-" + tx + "-" + std::to_string(i)},
                          {"chain_id", 11155111},
                          {"block_number", 9745219 + i},
                          {"block_hash", nullptr},
                          {"transaction_hash", tx},
                          {"log_index", i},
                          {"registry", "identity"},
                          {"event_type", "Registered"},
                          {"agent_id", 3234 + i},
                          {"timestamp", 1764585840 + i},
                          {"owner", "0x" + std::string(40, 'a')},
                          {"token_uri", "https://example.com/agent/" + std::to_string(i)}};
      out << e.dump() << "\n";
    }
  }
  std::atomic<bool> ingest_ok{false};
  std::string ingest_output;
  std::thread ingest([&] {
    auto r = Auri({"ingest", file, "--batch", "50"}, seconds(120));
    ingest_ok = r.ok() && r->exit_code == 0;
    if (r.ok()) ingest_output = r->output;
  });
  auto backup = Auri({"backup", "create", "--repo", "1", "--type", "incr", "--json"}, seconds(300));
  ingest.join();
  ASSERT_TRUE(ingest_ok) << ingest_output;
  ASSERT_TRUE(backup.ok());
  ASSERT_EQ(backup->exit_code, 0) << backup->output;
  std::string id = JsonOf(backup->output)["backups"][0]["id"];

  std::string dsn = Restore("during-ingest", {"--backup", id});  // asserts integrity passed
  int64_t restored = std::atoll(Scalar(dsn, "SELECT count(*) FROM events").c_str());
  // Each batch of 50 is one transaction: a consistent restore holds whole batches only.
  EXPECT_EQ(restored % 50, 0) << restored;
  EXPECT_LE(restored, 3000);
  // Every restored event is complete: its dedupe row came with it, and every queue row (events
  // the running event-processor had not yet evaluated) points at a restored event.
  EXPECT_EQ(Scalar(dsn,
                   "SELECT count(*) FROM events e WHERE NOT EXISTS "
                   "(SELECT 1 FROM event_ids i WHERE i.id = e.id)"),
            "0");
  EXPECT_EQ(Scalar(dsn,
                   "SELECT count(*) FROM event_queue q WHERE NOT EXISTS "
                   "(SELECT 1 FROM events e WHERE e.id = q.event_id)"),
            "0");
  auto check = Auri({"dr", "check", "--dsn", dsn}, seconds(120));
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->exit_code, 0) << check->output;
}

TEST_F(BackupRestoreTest, VerifyReportsACorruptedBackupAndPassesOnceRepaired) {
  // Flip bytes in the largest file of the base backup in repo2; keep a copy to put it back.
  std::string set_dir = home_ + "/backups/repo2/backup/auri/" + base_backup_repo2_;
  fs::path largest;
  uintmax_t size = 0;
  // A data file (not the manifest, which pgBackRest keeps twice).
  for (const auto& e : fs::recursive_directory_iterator(set_dir + "/pg_data")) {
    if (e.is_regular_file() && e.file_size() > size) {
      size = e.file_size();
      largest = e.path();
    }
  }
  ASSERT_GT(size, 200u);
  std::string original;
  {
    std::ifstream in(largest, std::ios::binary);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string damaged = original;
  for (size_t i = 100; i < 116; ++i) damaged[i] = static_cast<char>(damaged[i] ^ 0xff);
  std::ofstream(largest, std::ios::binary | std::ios::trunc) << damaged;

  auto bad = Auri({"backup", "verify", base_backup_repo2_, "--repo", "2"}, seconds(300));
  std::ofstream(largest, std::ios::binary | std::ios::trunc) << original;  // repair first
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->exit_code, 1) << bad->output;
  EXPECT_NE(bad->output.find("verification FAILED"), std::string::npos) << bad->output;
  EXPECT_NE(bad->output.find(largest.filename().string()), std::string::npos) << bad->output;

  auto list = Auri({"backup", "list", "--json"}, seconds(60));
  ASSERT_TRUE(list.ok());
  bool recorded = false;
  nlohmann::json listed = JsonOf(list->output);
  for (const auto& b : listed["backups"]) {
    if (b["id"] == base_backup_repo2_ && b["repo"] == 2) recorded = b["verification"] == "failed";
  }
  EXPECT_TRUE(recorded) << base_backup_repo2_ << "\n" << list->output;

  auto good = Auri({"backup", "verify", base_backup_repo2_, "--repo", "2"}, seconds(300));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->exit_code, 0) << good->output;
  EXPECT_FALSE(fs::exists(home_ + "/instances/verify-" + base_backup_repo2_ + "-repo2"));
}

TEST_F(BackupRestoreTest, RestoreWorksFromRepo2WhenRepo1IsGone) {
  ASSERT_TRUE(Sql("TRUNCATE dr_marker").ok());
  WriteMarker(7);
  // The marker's segment reaches both repositories, then repo1 is lost.
  std::string segment = Scalar(Dsn(), "SELECT pg_walfile_name(pg_switch_wal())");
  // PostgreSQL's archiver sleeps up to 60 s after three failed attempts in a row, so a transient
  // failure (seen once in CI, cause unknown) needs more than one pause to clear.
  auto deadline = std::chrono::steady_clock::now() + seconds(90);
  while (Scalar(Dsn(), "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < segment) {
    if (std::chrono::steady_clock::now() >= deadline) {
      auto log = ReadFileLimited(home_ + "/backups/log/auri-archive-push-async.log", 1 << 20);
      std::string text = log.ok() ? *log : log.status().ToString();
      FAIL() << "segment " << segment << " not archived; archiver: "
             << Scalar(Dsn(),
                       "SELECT format('archived %s, failed %s (%s at %s)', last_archived_wal, "
                       "failed_count, last_failed_wal, last_failed_time) FROM pg_stat_archiver")
             << "\narchive-push log tail:\n"
             << text.substr(text.size() > 4000 ? text.size() - 4000 : 0);
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  std::string repo1 = home_ + "/backups/repo1";
  fs::rename(repo1, repo1 + ".lost");
  std::string dsn = Restore("from-repo2", {"--latest", "--repo", "2"});
  fs::rename(repo1 + ".lost", repo1);
  EXPECT_EQ(Markers(dsn), "7");
}

}  // namespace
}  // namespace auri
