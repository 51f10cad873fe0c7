// The RPO exposure in seconds that `auri dr status` reports per repository (spec 40-dr.md, "DR
// status and alerts") is the age of the oldest commit the repository does not hold — not the time
// since the newest archived segment arrived, which after a quiet period counts the quiet time too
// (bench/backup_restore.sh once recorded 47–49 s of "exposure" for commits milliseconds old).
//
// One `auri up` stack with archive_timeout = 60 s, so a segment is archived only when a test
// switches it out (pg_switch_wal) and the timing is the test's. Runtime ≈ 20 s.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
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
using std::chrono::steady_clock;

class RpoExposureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = testing::StackHome::Create("auri-rpo");
    auto up = Auri({"up"}, seconds(120));
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    ASSERT_EQ(up->exit_code, 0) << up->output;
    ASSERT_TRUE(Sql("CREATE TABLE rpo_marker (n int PRIMARY KEY)").ok());
  }

  static void TearDownTestSuite() {
    (void)Auri({"down"}, seconds(120));
    stack_.Remove();
  }

  // Archiving works again after a test that broke it, whatever the test's outcome.
  void TearDown() override { SetArchiveWritable(true); }

  // Blocks (or unblocks) archiving the way a full or read-only repository would: the directories
  // that hold archived segments lose (or get back) the write bit. pgBackRest runs as `postgres`,
  // so archive-push fails while `pgbackrest info` still reads both repositories.
  static void SetArchiveWritable(bool writable) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const char* repo : {"repo1", "repo2"}) {
      fs::path stanza = fs::path(stack_.home) / "backups" / repo / "archive" / "auri";
      for (const auto& archive_id : fs::directory_iterator(stanza, ec)) {
        if (!archive_id.is_directory(ec)) continue;
        for (const auto& dir : fs::directory_iterator(archive_id.path(), ec)) {
          if (dir.is_directory(ec)) ::chmod(dir.path().c_str(), writable ? 0750 : 0550);
        }
      }
    }
  }

  static Result<CommandResult> Auri(std::vector<std::string> args, milliseconds timeout) {
    return RunCommand(stack_.Argv({"backup.full_schedule=off", "backup.incr_schedule=off",
                                   "backup.archive_timeout_seconds=60"},
                                  args),
                      "", timeout);
  }

  static std::string AdminDsn() {
    return "host=127.0.0.1 port=" + std::to_string(stack_.pg_port) +
           " user=postgres dbname=postgres connect_timeout=5";
  }
  static Status Sql(const std::string& sql) { return ExecuteAdminSql(AdminDsn(), sql); }
  static std::string Scalar(const std::string& sql) {
    auto rows = QueryAdminSql(AdminDsn(), sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() && !rows->empty() ? (*rows)[0][0] : "";
  }

  // `auri dr status --json`, parsed; null (with a failure recorded) when it did not work.
  static nlohmann::json DrStatusJson() {
    auto r = Auri({"dr", "status", "--json"}, seconds(60));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return nullptr;
    EXPECT_EQ(r->exit_code, 0) << r->output;
    size_t start = r->output.find('{');
    auto doc = nlohmann::json::parse(start == std::string::npos ? "" : r->output.substr(start),
                                     nullptr, false);
    EXPECT_TRUE(doc.is_object() && doc["repositories"].size() == 2u) << r->output;
    return doc.is_object() && doc["repositories"].size() == 2u ? doc : nullptr;
  }

  // Switches the current segment out and waits until the primary has archived it. After failed
  // attempts (the second test makes archiving fail on purpose) PostgreSQL's archiver may sleep
  // up to 60 s before it tries again, so the wait is 90 s; a timeout shows the archiver's state
  // and the tail of pgBackRest's asynchronous archive-push log (one CI run timed out at 30 s).
  static void SwitchAndWaitArchived() {
    std::string segment = Scalar("SELECT pg_walfile_name(pg_switch_wal())");
    auto deadline = steady_clock::now() + seconds(90);
    while (Scalar("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < segment) {
      if (steady_clock::now() >= deadline) {
        auto log =
            ReadFileLimited(stack_.home + "/backups/log/auri-archive-push-async.log", 1 << 20);
        std::string text = log.ok() ? *log : log.status().ToString();
        FAIL() << "segment " << segment << " not archived; archiver: "
               << Scalar(
                      "SELECT format('archived %s, failed %s (%s at %s)', last_archived_wal, "
                      "failed_count, last_failed_wal, last_failed_time) FROM pg_stat_archiver")
               << "\narchive-push log tail:\n"
               << text.substr(text.size() > 4000 ? text.size() - 4000 : 0);
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }

  static inline testing::StackHome stack_;
};

TEST_F(RpoExposureTest, FirstCommitAfterAQuietPeriodIsExposedForItsAgeNotTheQuietTime) {
  ASSERT_NO_FATAL_FAILURE(SwitchAndWaitArchived());
  // A quiet period: nothing committed until the newest archived segment is 7 s old.
  auto deadline = steady_clock::now() + seconds(30);
  while (std::stod("0" + Scalar("SELECT extract(epoch FROM clock_timestamp() - "
                                "last_archived_time) FROM pg_stat_archiver")) < 7.0) {
    ASSERT_LT(steady_clock::now(), deadline);
    std::this_thread::sleep_for(milliseconds(250));
  }
  nlohmann::json quiet = DrStatusJson();
  ASSERT_FALSE(quiet.is_null());
  for (const auto& repo : quiet["repositories"]) {
    EXPECT_EQ(repo["wal_lag_seconds"].get<double>(), 0.0) << quiet.dump(2);
  }

  // One commit: exposed since its commit a moment ago (the old measure said ≥ 7 s here).
  ASSERT_TRUE(Sql("INSERT INTO rpo_marker VALUES (1)").ok());
  nlohmann::json after = DrStatusJson();
  ASSERT_FALSE(after.is_null());
  for (const auto& repo : after["repositories"]) {
    EXPECT_GT(repo["wal_lag_bytes"].get<int64_t>(), 0) << after.dump(2);  // not archived yet
    EXPECT_GE(repo["wal_lag_seconds"].get<double>(), 0.0) << after.dump(2);
    EXPECT_LT(repo["wal_lag_seconds"].get<double>(), 2.0) << after.dump(2);
    EXPECT_EQ(repo["wal_lag_seconds_is_bound"], false) << after.dump(2);
  }
  EXPECT_EQ(after["commit_scan_note"], "") << after.dump(2);
}

TEST_F(RpoExposureTest, ExposureGrowsWithTheOldestCommitsAgeWhileArchivingFails) {
  ASSERT_NO_FATAL_FAILURE(SwitchAndWaitArchived());
  std::string failures_before = Scalar("SELECT failed_count FROM pg_stat_archiver");
  SetArchiveWritable(false);
  ASSERT_TRUE(Sql("INSERT INTO rpo_marker VALUES (2)").ok());
  auto committed = steady_clock::now();
  // The commit's segment is complete but cannot be archived; later WAL follows it.
  ASSERT_TRUE(Sql("SELECT pg_switch_wal()").ok());
  auto failing_deadline = steady_clock::now() + seconds(30);
  while (Scalar("SELECT failed_count FROM pg_stat_archiver") == failures_before) {
    ASSERT_LT(steady_clock::now(), failing_deadline) << "archiving did not fail";
    std::this_thread::sleep_for(milliseconds(100));
  }

  // The exposure follows the commit's age: poll until it is 3 s, then compare with the clock.
  nlohmann::json doc;
  double exposure = 0;
  auto deadline = steady_clock::now() + seconds(20);
  while (exposure < 3.0) {
    ASSERT_LT(steady_clock::now(), deadline) << doc.dump(2);
    std::this_thread::sleep_for(milliseconds(250));
    doc = DrStatusJson();
    ASSERT_FALSE(doc.is_null());
    exposure = doc["repositories"][0]["wal_lag_seconds"].get<double>();
  }
  double age = std::chrono::duration<double>(steady_clock::now() - committed).count();
  for (const auto& repo : doc["repositories"]) {
    EXPECT_NEAR(repo["wal_lag_seconds"].get<double>(), age, 1.0) << doc.dump(2);
    EXPECT_EQ(repo["wal_lag_seconds_is_bound"], false) << doc.dump(2);
  }

  // A newer commit does not hide the older one.
  ASSERT_TRUE(Sql("INSERT INTO rpo_marker VALUES (3)").ok());
  doc = DrStatusJson();
  ASSERT_FALSE(doc.is_null());
  EXPECT_GE(doc["repositories"][0]["wal_lag_seconds"].get<double>(), 3.0) << doc.dump(2);

  // Archiving works again: once both commits are archived, nothing is exposed.
  SetArchiveWritable(true);
  ASSERT_NO_FATAL_FAILURE(SwitchAndWaitArchived());
  deadline = steady_clock::now() + seconds(30);
  do {
    ASSERT_LT(steady_clock::now(), deadline) << doc.dump(2);
    std::this_thread::sleep_for(milliseconds(250));
    doc = DrStatusJson();
    ASSERT_FALSE(doc.is_null());
  } while (doc["repositories"][0]["wal_lag_seconds"].get<double>() != 0.0 ||
           doc["repositories"][1]["wal_lag_seconds"].get<double>() != 0.0);
}

}  // namespace
}  // namespace auri
