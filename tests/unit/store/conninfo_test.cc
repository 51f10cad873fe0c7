// DSN handling and error mapping of the store, without a server.
#include "store/conninfo.h"

#include <gtest/gtest.h>

#include <pqxx/except>

#include "store/pg_error.h"

namespace auri::store_internal {
namespace {

ConnInfo Parsed(const std::string& dsn) {
  auto info = ParseDsn(dsn);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return info.ok() ? *info : ConnInfo{};
}

TEST(ConnInfoTest, EndpointNamesHostPortAndDatabaseButNeverThePassword) {
  ConnInfo info = Parsed("host=db.internal port=6432 dbname=auri user=app password=hunter2");
  EXPECT_EQ(info.Endpoint(), "db.internal:6432/auri");
  EXPECT_EQ(info.Get("password"), "hunter2");  // kept for connecting...
}

TEST(ConnInfoTest, UrisAndMultiHostDsnsAreUnderstood) {
  ConnInfo info =
      Parsed("postgresql://app:hunter2@h1:5432,h2:5433/auri?target_session_attrs=read-write");
  EXPECT_EQ(info.Endpoint(), "h1:5432,h2:5433/auri");
  EXPECT_EQ(info.Get("target_session_attrs"), "read-write");
}

TEST(ConnInfoTest, AMalformedDsnIsRejectedWithoutQuotingIt) {
  auto info = ParseDsn("host=127.0.0.1 password=hunter2 port");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(info.status().ToString().find("hunter2"), std::string::npos);
}

TEST(ConnInfoTest, BuildConninfoAddsTimeoutsAndKeepsTheDsnsOptions) {
  ConnInfo info = Parsed("host=h dbname=d options='-c search_path=app'");
  ConnectSettings settings;
  settings.statement_timeout_ms = 1500;
  std::string built = BuildConninfo(info, settings);
  EXPECT_NE(built.find("connect_timeout=5"), std::string::npos) << built;
  EXPECT_NE(built.find("options='-c search_path=app -c statement_timeout=1500'"), std::string::npos)
      << built;
  EXPECT_NE(built.find("fallback_application_name=auri"), std::string::npos) << built;
  // What we built parses back to the same keywords.
  ConnInfo again = Parsed(built);
  EXPECT_EQ(again.Get("host"), "h");
  EXPECT_EQ(again.Get("dbname"), "d");
}

TEST(ConnInfoTest, AsynchronousCommitIsASessionOptionOnlyWhenAsked) {
  ConnInfo info = Parsed("host=h");
  ConnectSettings settings;
  EXPECT_EQ(BuildConninfo(info, settings).find("synchronous_commit"), std::string::npos);
  settings.synchronous_commit = false;
  EXPECT_NE(BuildConninfo(info, settings).find("-c synchronous_commit=off'"), std::string::npos)
      << BuildConninfo(info, settings);
}

TEST(ConnInfoTest, ADeadlineCapsTheConnectTimeoutButNotBelowLibpqsMinimum) {
  ConnInfo info = Parsed("host=h connect_timeout=30");
  ConnectSettings settings;
  settings.connect_deadline = std::chrono::milliseconds(7200);
  EXPECT_NE(BuildConninfo(info, settings).find("connect_timeout=8"), std::string::npos);
  settings.connect_deadline = std::chrono::milliseconds(10);
  EXPECT_NE(BuildConninfo(info, settings).find("connect_timeout=2"), std::string::npos);
  settings.connect_deadline = std::chrono::milliseconds(0);
  EXPECT_NE(BuildConninfo(info, settings).find("connect_timeout=30"), std::string::npos);
}

TEST(ConnInfoTest, ValuesWithQuotesAndBackslashesSurviveQuoting) {
  ConnInfo info = Parsed("host=h password='it\\'s a \\\\ secret'");
  ASSERT_EQ(info.Get("password"), "it's a \\ secret");
  EXPECT_EQ(Parsed(BuildConninfo(info, {})).Get("password"), "it's a \\ secret");
}

TEST(OneLineTest, JoinsLinesAndCollapsesSpaces) {
  EXPECT_EQ(OneLine("connection to server failed: refused\n\tIs the server running?\n"),
            "connection to server failed: refused Is the server running?");
}

Status FromSqlState(const char* state) {
  return StatusFromException(pqxx::sql_error("ERROR:  boom\nDETAIL:  more\n", "SELECT 1", state),
                             "doing it");
}

TEST(StatusFromExceptionTest, MapsSqlStatesToCodes) {
  EXPECT_EQ(FromSqlState("23505").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(FromSqlState("23503").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(FromSqlState("23514").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FromSqlState("22P02").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FromSqlState("57014").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(FromSqlState("55P03").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(FromSqlState("57P01").code(), StatusCode::kUnavailable);
  EXPECT_EQ(FromSqlState("08006").code(), StatusCode::kUnavailable);
  EXPECT_EQ(FromSqlState("25006").code(), StatusCode::kUnavailable);
  EXPECT_EQ(FromSqlState("42601").code(), StatusCode::kInternal);
}

TEST(StatusFromExceptionTest, MessageHasContextAndTheServerTextOnOneLine) {
  EXPECT_EQ(FromSqlState("23505").message(), "doing it: boom DETAIL: more");
}

TEST(StatusFromExceptionTest, ALostConnectionIsUnavailableAndMarkedAsSuch) {
  pqxx::broken_connection lost("server closed the connection unexpectedly");
  EXPECT_TRUE(IsConnectionLoss(lost));
  Status s = StatusFromException(lost, "reading triggers");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(s.hint().empty());
  EXPECT_FALSE(IsConnectionLoss(pqxx::sql_error("x", "q", "23505")));
  EXPECT_EQ(StatusFromException(std::runtime_error("odd"), "x").code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace auri::store_internal
