// ConnectionPool against a real PostgreSQL: limits and deadlines, reconnecting after the server
// or a connection goes away, statement_timeout, Reconfigure.
#include "store/pool.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <optional>
#include <thread>

#include "store/pg_error.h"
#include "tests/integration/harness.h"
#include "tests/integration/store/store_test_util.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::CreateEmptyDatabase;
using testing::ExecSql;
using testing::QueryValue;
using Clock = std::chrono::steady_clock;

PoolOptions Options(const std::string& dsn, int size = 2) {
  PoolOptions o;
  o.dsn = dsn;
  o.size = size;
  return o;
}

// Runs `sql` on a pooled connection and returns the first value; marks the connection broken and
// returns the error text when it throws (as store code does).
std::string Query(PooledConnection& conn, const std::string& sql) {
  try {
    pqxx::nontransaction tx(conn.get());
    return tx.exec(sql)[0][0].as<std::string>();
  } catch (const std::exception& e) {
    conn.MarkBroken();
    return std::string("error: ") + e.what();
  }
}

std::string QueryOnNewLoan(ConnectionPool& pool, const std::string& sql) {
  auto conn = pool.Acquire(seconds(5));
  if (!conn.ok()) return "acquire failed: " + conn.status().ToString();
  return Query(*conn, sql);
}

std::string UnreachableDsn(int port) {
  return "host=127.0.0.1 port=" + std::to_string(port) +
         " dbname=auri user=auri password=hunter2-secret connect_timeout=2";
}

TEST(PoolTest, AcquireTimesOutWhenEveryConnectionIsOnLoan) {
  ConnectionPool pool(Options(CreateEmptyDatabase(), 2));
  auto a = pool.Acquire(seconds(5));
  auto b = pool.Acquire(seconds(5));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();

  auto start = Clock::now();
  auto c = pool.Acquire(milliseconds(150));
  auto waited = Clock::now() - start;
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(c.status().message().find("all 2 are in use"), std::string::npos)
      << c.status().ToString();
  EXPECT_GE(waited, milliseconds(150));
  EXPECT_LT(waited, seconds(2));
}

TEST(PoolTest, AWaitingAcquireGetsTheConnectionWhenItIsReturned) {
  ConnectionPool pool(Options(CreateEmptyDatabase(), 1));
  std::optional<PooledConnection> held;
  {
    auto first = pool.Acquire(seconds(5));
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    held.emplace(std::move(first).value());
  }
  Result<PooledConnection> waited = Internal("not run");
  std::thread waiter([&] { waited = pool.Acquire(seconds(10)); });
  held.reset();  // returns the only connection
  waiter.join();
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  EXPECT_EQ(Query(*waited, "SELECT 1"), "1");
}

TEST(PoolTest, EveryConnectionGetsTheStatementTimeout) {
  PoolOptions o = Options(CreateEmptyDatabase(), 1);
  o.statement_timeout_ms = 150;
  ConnectionPool pool(o);
  auto conn = pool.Acquire(seconds(5));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(Query(*conn, "SHOW statement_timeout"), "150ms");
  try {
    pqxx::nontransaction tx(conn->get());
    tx.exec("SELECT pg_sleep(5)");
    FAIL() << "pg_sleep(5) outlived a 150 ms statement_timeout";
  } catch (const std::exception& e) {
    Status s = store_internal::StatusFromException(e, "sleeping");
    EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
    EXPECT_NE(s.message().find("statement timeout"), std::string::npos) << s.ToString();
  }
}

TEST(PoolTest, PingSucceedsAgainstARunningServer) {
  ConnectionPool pool(Options(CreateEmptyDatabase()));
  Status s = pool.Ping(seconds(5));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(PoolTest, PingAgainstAClosedPortIsUnavailableAndNamesTheEndpointButNotThePassword) {
  int port = testing::FreePort();
  ConnectionPool pool(Options(UnreachableDsn(port)));
  Status s = pool.Ping(seconds(5));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("cannot connect to postgresql at 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << s.ToString();
  EXPECT_EQ(s.ToString().find("hunter2"), std::string::npos) << s.ToString();
  EXPECT_FALSE(s.hint().empty());
}

TEST(PoolTest, AMalformedDsnIsAnInvalidArgumentThatDoesNotQuoteIt) {
  ConnectionPool pool(Options("host=127.0.0.1 password=hunter2-secret port"));
  auto conn = pool.Acquire(seconds(1));
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(conn.status().ToString().find("hunter2"), std::string::npos);
}

TEST(PoolTest, PingReturnsByItsDeadlineWhenTheServerStopsAnswering) {
  ConnectionPool pool(Options(CreateEmptyDatabase(), 1));
  std::string pid_text = QueryOnNewLoan(pool, "SELECT pg_backend_pid()");
  pid_t backend = static_cast<pid_t>(std::stol(pid_text));
  if (::kill(backend, SIGSTOP) != 0) GTEST_SKIP() << "cannot stop the backend (not root?)";
  auto start = Clock::now();
  Status s = pool.Ping(milliseconds(300));
  auto took = Clock::now() - start;
  ::kill(backend, SIGCONT);

  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_LT(took, seconds(2));
  // The stalled connection was discarded: the next ping uses a fresh one.
  Status again = pool.Ping(seconds(5));
  EXPECT_TRUE(again.ok()) << again.ToString();
}

TEST(PoolTest, AnIdleConnectionTerminatedByTheServerIsReplacedOnAcquire) {
  std::string dsn = CreateEmptyDatabase();
  ConnectionPool pool(Options(dsn, 1));
  std::string old_pid = QueryOnNewLoan(pool, "SELECT pg_backend_pid()");
  // Waits (bounded, 5 s) until the backend is gone.
  ASSERT_EQ(QueryValue(dsn, "SELECT pg_terminate_backend(" + old_pid + ", 5000)"), "t");

  std::string new_pid = QueryOnNewLoan(pool, "SELECT pg_backend_pid()");
  EXPECT_NE(new_pid.rfind("error", 0), 0u) << new_pid;
  EXPECT_NE(new_pid, old_pid);
}

TEST(PoolTest, AConnectionThatFailedIsNotReusedEvenIfNotMarkedBroken) {
  std::string dsn = CreateEmptyDatabase();
  ConnectionPool pool(Options(dsn, 1));
  {
    auto conn = pool.Acquire(seconds(5));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    std::string pid;
    {
      pqxx::nontransaction tx(conn->get());
      pid = tx.exec("SELECT pg_backend_pid()")[0][0].as<std::string>();
    }
    ASSERT_EQ(QueryValue(dsn, "SELECT pg_terminate_backend(" + pid + ", 5000)"), "t");
    EXPECT_ANY_THROW({
      pqxx::nontransaction tx(conn->get());
      tx.exec("SELECT 1");
    });
    // Returned without MarkBroken().
  }
  EXPECT_EQ(QueryOnNewLoan(pool, "SELECT 1"), "1");
}

TEST(PoolTest, ThePoolSurvivesAPostgresRestartWithoutBeingRecreated) {
  ConnectionPool pool(Options(CreateEmptyDatabase(), 2));
  ASSERT_TRUE(pool.Ping(seconds(5)).ok());
  ASSERT_EQ(QueryOnNewLoan(pool, "SELECT 1"), "1");

  ASSERT_NO_FATAL_FAILURE(testing::StopPostgres());
  Status down = pool.Ping(seconds(3));
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  ASSERT_NO_FATAL_FAILURE(testing::StartPostgres());

  Status up = pool.Ping(seconds(5));
  EXPECT_TRUE(up.ok()) << up.ToString();
  // Stale connections from before the restart are not handed out.
  EXPECT_EQ(QueryOnNewLoan(pool, "SELECT 1"), "1");
  EXPECT_EQ(QueryOnNewLoan(pool, "SELECT 2"), "2");
}

TEST(PoolTest, ReconfigurePointsNewLoansAtTheNewDatabase) {
  std::string first = CreateEmptyDatabase();
  std::string second = CreateEmptyDatabase();
  ConnectionPool pool(Options(first, 2));
  auto loaned = pool.Acquire(seconds(5));
  ASSERT_TRUE(loaned.ok()) << loaned.status().ToString();
  std::string first_name = Query(*loaned, "SELECT current_database()");

  pool.Reconfigure(second);
  EXPECT_EQ(pool.dsn(), second);
  std::string second_name = QueryOnNewLoan(pool, "SELECT current_database()");
  EXPECT_NE(second_name, first_name);
  EXPECT_NE(second.find("dbname=" + second_name), std::string::npos) << second;

  // The loan from before is closed when returned, not reused for the new database.
  { PooledConnection returning = std::move(loaned).value(); }
  EXPECT_EQ(QueryOnNewLoan(pool, "SELECT current_database()"), second_name);
  EXPECT_EQ(QueryOnNewLoan(pool, "SELECT current_database()"), second_name);
}

}  // namespace
}  // namespace auri
