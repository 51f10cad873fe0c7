// ApplyMigrations and CurrentSchemaVersion against a real PostgreSQL (one database per test).
#include "store/migrations.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/store/store_test_util.h"

namespace auri {
namespace {

using testing::CreateEmptyDatabase;
using testing::CreateMigratedDatabase;
using testing::ExecSql;
using testing::QueryValue;

// A Logger writing to a temporary file, so a test can read what was logged.
class CapturedLog {
 public:
  CapturedLog() {
    char path[] = "/tmp/auri-migrations-log-XXXXXX";
    fd_ = ::mkstemp(path);
    path_ = path;
    logger_ = std::make_unique<Logger>(fd_, "test", LogLevel::kDebug);
  }
  ~CapturedLog() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const Logger& logger() const { return *logger_; }
  std::string Text() const {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  int fd_ = -1;
  std::string path_;
  std::unique_ptr<Logger> logger_;
};

Logger Quiet() { return Logger(2, "test", LogLevel::kError); }

TEST(MigrationsTest, EmptyDatabaseGetsEveryMigrationAndReportsTheBinaryVersion) {
  std::string dsn = CreateEmptyDatabase();
  auto before = CurrentSchemaVersion(dsn);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(*before, 0);

  auto report = ApplyMigrations(dsn, Quiet());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->applied, static_cast<int>(EmbeddedMigrations().size()));
  EXPECT_EQ(report->schema_version, BinarySchemaVersion());

  auto after = CurrentSchemaVersion(dsn);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, BinarySchemaVersion());
  // What is recorded is what is embedded.
  const Migration& first = EmbeddedMigrations().front();
  EXPECT_EQ(QueryValue(dsn,
                       "SELECT name || ' ' || checksum FROM schema_migrations WHERE "
                       "version = " +
                           std::to_string(first.version)),
            first.name + " " + first.checksum);
}

TEST(MigrationsTest, ApplyingTwiceAppliesNothingTheSecondTime) {
  std::string dsn = CreateEmptyDatabase();
  ASSERT_TRUE(ApplyMigrations(dsn, Quiet()).ok());
  auto again = ApplyMigrations(dsn, Quiet());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->applied, 0);
  EXPECT_EQ(again->schema_version, BinarySchemaVersion());
}

TEST(MigrationsTest, EachAppliedMigrationIsLogged) {
  std::string dsn = CreateEmptyDatabase();
  CapturedLog log;
  ASSERT_TRUE(ApplyMigrations(dsn, log.logger()).ok());
  std::string text = log.Text();
  for (const Migration& m : EmbeddedMigrations()) {
    EXPECT_NE(text.find("\"msg\":\"applied migration\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"name\":\"" + m.name + "\""), std::string::npos) << text;
  }
}

TEST(MigrationsTest, ATamperedChecksumIsRefusedNamingTheFile) {
  std::string dsn = CreateMigratedDatabase();
  const Migration& first = EmbeddedMigrations().front();
  ExecSql(dsn, "UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = " +
                   std::to_string(first.version));
  auto report = ApplyMigrations(dsn, Quiet());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find(first.name + ".sql changed after it was applied"),
            std::string::npos)
      << report.status().ToString();
  EXPECT_NE(report.status().hint().find("never edit an applied migration"), std::string::npos);
}

TEST(MigrationsTest, ADatabaseAtANewerVersionIsRefused) {
  std::string dsn = CreateMigratedDatabase();
  int newer = BinarySchemaVersion() + 1;
  ExecSql(dsn, "INSERT INTO schema_migrations (version, name, checksum) VALUES (" +
                   std::to_string(newer) + ", '9999_from_the_future', repeat('f', 64))");
  auto report = ApplyMigrations(dsn, Quiet());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("newer than this binary's " +
                                           std::to_string(BinarySchemaVersion())),
            std::string::npos)
      << report.status().ToString();
  auto version = CurrentSchemaVersion(dsn);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, newer);
}

TEST(MigrationsTest, ConcurrentRunnersBothSucceedAndApplyEachMigrationOnce) {
  std::string dsn = CreateEmptyDatabase();
  Logger quiet = Quiet();
  Result<MigrationReport> a = Internal("not run"), b = Internal("not run");
  std::thread first([&] { a = ApplyMigrations(dsn, quiet); });
  std::thread second([&] { b = ApplyMigrations(dsn, quiet); });
  first.join();
  second.join();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->applied + b->applied, static_cast<int>(EmbeddedMigrations().size()));
  EXPECT_EQ(a->schema_version, BinarySchemaVersion());
  EXPECT_EQ(b->schema_version, BinarySchemaVersion());
  EXPECT_EQ(QueryValue(dsn, "SELECT count(*) FROM schema_migrations"),
            std::to_string(EmbeddedMigrations().size()));
}

TEST(MigrationsTest, AnUnreachableServerIsUnavailableAndTheMessageHidesThePassword) {
  int port = testing::FreePort();
  std::string dsn = "host=127.0.0.1 port=" + std::to_string(port) +
                    " dbname=auri user=auri password=hunter2-secret connect_timeout=2";
  auto report = ApplyMigrations(dsn, Quiet());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable);
  std::string text = report.status().ToString();
  EXPECT_NE(text.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_FALSE(report.status().hint().empty());
}

}  // namespace
}  // namespace auri
