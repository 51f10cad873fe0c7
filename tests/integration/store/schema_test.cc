// Behaviour of the core schema (migrations/0001_core.sql) that other components rely on:
// notifications, partition routing, event idempotency and queueing, ownership, delete behaviour.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/store/store_test_util.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using testing::CreateMigratedDatabase;
using testing::ExecSql;
using testing::InsertEventSql;
using testing::OpenConnection;
using testing::QueryValue;

// Collects notifications of one channel on its own connection.
class Listener : public pqxx::notification_receiver {
 public:
  Listener(pqxx::connection& conn, const std::string& channel)
      : pqxx::notification_receiver(conn, channel) {}
  void operator()(const std::string& payload, int) override { payloads.push_back(payload); }

  // Waits (bounded) until at least `count` notifications arrived; returns whether they did.
  bool WaitFor(size_t count, milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (payloads.size() < count && std::chrono::steady_clock::now() < deadline) {
      conn().await_notification(0, 50 * 1000);
    }
    return payloads.size() >= count;
  }
  std::vector<std::string> payloads;
};

long long UnixNow() { return static_cast<long long>(std::time(nullptr)); }

std::string MonthPartitionOf(long long unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char name[32];
  std::strftime(name, sizeof name, "events_%Y_%m", &tm);
  return name;
}

// 2001-03-15 12:00:00 UTC: long before any partition the migration creates.
constexpr long long kLongAgo = 984657600;

TEST(SchemaTest, InsertingAnEventNotifiesNewEventWithItsPayload) {
  std::string dsn = CreateMigratedDatabase();
  auto listen_conn = OpenConnection(dsn);
  Listener listener(*listen_conn, "new_event");

  ExecSql(dsn, InsertEventSql(17, UnixNow()));

  ASSERT_TRUE(listener.WaitFor(1, milliseconds(5000))) << "no new_event notification";
  auto payload = nlohmann::json::parse(listener.payloads[0]);
  EXPECT_EQ(payload["event_id"], "identity-11155111-0x" + std::string(64, 'a') + "-17");
  EXPECT_EQ(payload["chain_id"], 11155111);
  EXPECT_EQ(payload["block_number"], 9745219);
  EXPECT_EQ(payload["event_type"], "Registered");
  EXPECT_EQ(payload["registry"], "identity");
}

TEST(SchemaTest, AnEventWithoutAMonthlyPartitionLandsInTheDefaultPartition) {
  std::string dsn = CreateMigratedDatabase();
  EXPECT_EQ(QueryValue(dsn, InsertEventSql(1, kLongAgo)), "events_default");
}

TEST(SchemaTest, AnEventOfACoveredMonthLandsInItsMonthlyPartition) {
  std::string dsn = CreateMigratedDatabase();
  long long now = UnixNow();
  EXPECT_EQ(QueryValue(dsn, InsertEventSql(1, now)), MonthPartitionOf(now));
}

TEST(SchemaTest, CreatingAMonthlyPartitionMovesItsStragglersOutOfTheDefault) {
  std::string dsn = CreateMigratedDatabase();
  ASSERT_EQ(QueryValue(dsn, InsertEventSql(1, kLongAgo)), "events_default");

  EXPECT_EQ(QueryValue(dsn, "SELECT auri_ensure_event_partitions(to_timestamp(" +
                                std::to_string(kLongAgo) + "), 1)"),
            "1");
  EXPECT_EQ(QueryValue(dsn, "SELECT tableoid::regclass::text FROM events"), "events_2001_03");
  // Idempotent: a second call creates nothing.
  EXPECT_EQ(QueryValue(dsn, "SELECT auri_ensure_event_partitions(to_timestamp(" +
                                std::to_string(kLongAgo) + "), 1)"),
            "0");
  // New events of that month now go straight to it.
  EXPECT_EQ(QueryValue(dsn, InsertEventSql(2, kLongAgo + 60)), "events_2001_03");
}

TEST(SchemaTest, ADuplicateEventIdIsSkippedAndQueuedOnce) {
  std::string dsn = CreateMigratedDatabase();
  long long now = UnixNow();
  EXPECT_EQ(QueryValue(dsn, "WITH i AS (" + InsertEventSql(5, now) + ") SELECT count(*) FROM i"),
            "1");
  // Same id, even with a different block time (another partition): not inserted again.
  EXPECT_EQ(QueryValue(dsn, "WITH i AS (" + InsertEventSql(5, now) + ") SELECT count(*) FROM i"),
            "0");
  EXPECT_EQ(
      QueryValue(dsn, "WITH i AS (" + InsertEventSql(5, kLongAgo) + ") SELECT count(*) FROM i"),
      "0");
  EXPECT_EQ(QueryValue(dsn, "SELECT count(*) FROM events"), "1");
  EXPECT_EQ(QueryValue(dsn, "SELECT count(*) FROM event_queue"), "1");
}

TEST(SchemaTest, AnEventWhoseBlockTimeDisagreesWithItsTimestampIsRejected) {
  std::string dsn = CreateMigratedDatabase();
  long long now = UnixNow();
  std::string sql =
      InsertEventSql(1, now, "to_timestamp(" + std::to_string(now) + ") + interval '1 hour'");
  EXPECT_THROW(ExecSql(dsn, sql), pqxx::check_violation);
}

TEST(SchemaTest, AnEventsIdAndBlockTimeCannotBeUpdated) {
  std::string dsn = CreateMigratedDatabase();
  long long now = UnixNow();
  ExecSql(dsn, InsertEventSql(1, now));
  // Moving it to another month would otherwise re-run the dedupe trigger and lose the row.
  EXPECT_THROW(ExecSql(dsn, "UPDATE events SET \"timestamp\" = " + std::to_string(kLongAgo) +
                                ", block_time = to_timestamp(" + std::to_string(kLongAgo) + ")"),
               pqxx::check_violation);
  EXPECT_EQ(QueryValue(dsn, "SELECT count(*) FROM events"), "1");
}

class SchemaOwnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = CreateMigratedDatabase();
    ExecSql(dsn_,
            "INSERT INTO users (id, username, email, password_hash) VALUES "
            "('00000000-0000-0000-0000-000000000001', 'alice', 'alice@example.com', 'h'),"
            "('00000000-0000-0000-0000-000000000002', 'bob', 'bob@example.com', 'h')");
  }
  static constexpr const char* kCreateOrgWithOwner =
      "INSERT INTO organizations (id, name, slug) VALUES "
      "('00000000-0000-0000-0000-0000000000a1', 'Acme', 'acme');"
      "INSERT INTO organization_members (organization_id, user_id, role) VALUES "
      "('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'owner')";
  std::string dsn_;
};

TEST_F(SchemaOwnerTest, ASecondOwnerIsRejected) {
  ExecSql(dsn_, kCreateOrgWithOwner);
  EXPECT_THROW(ExecSql(dsn_,
                       "INSERT INTO organization_members VALUES "
                       "('00000000-0000-0000-0000-0000000000a1', "
                       "'00000000-0000-0000-0000-000000000002', 'owner')"),
               pqxx::unique_violation);
}

TEST_F(SchemaOwnerTest, AnOrganizationWithoutAnOwnerCannotCommit) {
  try {
    ExecSql(dsn_, "INSERT INTO organizations (name, slug) VALUES ('Orphan', 'orphan')");
    FAIL() << "an organization without an owner was committed";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "23514");
    EXPECT_NE(std::string(e.what()).find("has no owner"), std::string::npos) << e.what();
  }
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(*) FROM organizations"), "0");
}

TEST_F(SchemaOwnerTest, TheOwnerCannotBeRemovedOrDemotedWithoutATransfer) {
  ExecSql(dsn_, kCreateOrgWithOwner);
  EXPECT_THROW(ExecSql(dsn_, "UPDATE organization_members SET role = 'admin'"),
               pqxx::check_violation);
  EXPECT_THROW(ExecSql(dsn_, "DELETE FROM organization_members"), pqxx::check_violation);
  EXPECT_THROW(ExecSql(dsn_, "DELETE FROM users WHERE username = 'alice'"), pqxx::check_violation);
}

TEST_F(SchemaOwnerTest, OwnershipTransfersWithinOneTransaction) {
  ExecSql(dsn_, kCreateOrgWithOwner);
  ExecSql(dsn_,
          "INSERT INTO organization_members VALUES ('00000000-0000-0000-0000-0000000000a1', "
          "'00000000-0000-0000-0000-000000000002', 'member');"
          "UPDATE organization_members SET role = 'admin' WHERE role = 'owner';"
          "UPDATE organization_members SET role = 'owner' "
          "WHERE user_id = '00000000-0000-0000-0000-000000000002'");
  EXPECT_EQ(QueryValue(dsn_,
                       "SELECT u.username FROM organization_members m JOIN users u ON "
                       "u.id = m.user_id WHERE m.role = 'owner'"),
            "bob");
  // Deleting the organization takes its members with it.
  ExecSql(dsn_, "DELETE FROM organizations");
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(*) FROM organization_members"), "0");
}

class SchemaTriggerRowsTest : public SchemaOwnerTest {
 protected:
  void SetUp() override {
    SchemaOwnerTest::SetUp();
    ExecSql(dsn_, kCreateOrgWithOwner);
    ExecSql(dsn_,
            "INSERT INTO triggers (id, organization_id, name, registry) VALUES "
            "('00000000-0000-0000-0000-0000000000f1', '00000000-0000-0000-0000-0000000000a1', "
            "'scores', 'reputation');"
            "INSERT INTO trigger_actions (id, trigger_id, action_type, config) VALUES "
            "('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000f1', "
            "'webhook', '{\"url\": \"http://127.0.0.1:9/\"}');"
            "INSERT INTO action_jobs (trigger_id, action_id, event_id, action_type, config, "
            "event_data) VALUES ('00000000-0000-0000-0000-0000000000f1', "
            "'00000000-0000-0000-0000-0000000000c1', 'e1', 'webhook', '{}', '{}')");
  }
};

TEST_F(SchemaTriggerRowsTest, DefinitionChangesNotifyButCircuitBreakerUpdatesDoNot) {
  auto listen_conn = OpenConnection(dsn_);
  Listener listener(*listen_conn, "trigger_changed");
  // Runtime breaker state, written by the processor on every failure: silent.
  ExecSql(dsn_,
          "UPDATE triggers SET cb_failure_count = cb_failure_count + 1, "
          "cb_last_failure_time = now()");
  // A marker: notifications arrive in commit order, so once this one is here, one from the
  // update above would have arrived before it.
  ExecSql(dsn_,
          "INSERT INTO trigger_conditions (trigger_id, condition_type, value) VALUES "
          "('00000000-0000-0000-0000-0000000000f1', 'event_type_equals', 'NewFeedback')");
  ASSERT_TRUE(listener.WaitFor(1, milliseconds(5000)));
  ASSERT_EQ(nlohmann::json::parse(listener.payloads[0])["table"], "trigger_conditions")
      << "a circuit-breaker update notified trigger_changed: " << listener.payloads[0];

  // A definition change: announced.
  ExecSql(dsn_, "UPDATE triggers SET enabled = false");
  ASSERT_TRUE(listener.WaitFor(2, milliseconds(5000)));
  auto payload = nlohmann::json::parse(listener.payloads[1]);
  EXPECT_EQ(payload["table"], "triggers");
  EXPECT_EQ(payload["op"], "update");
  EXPECT_EQ(payload["trigger_id"], "00000000-0000-0000-0000-0000000000f1");
}

TEST_F(SchemaTriggerRowsTest, InsertingJobsNotifiesActionJob) {
  auto listen_conn = OpenConnection(dsn_);
  Listener listener(*listen_conn, "action_job");
  ExecSql(dsn_,
          "INSERT INTO action_jobs (trigger_id, event_id, action_type, config, event_data) "
          "VALUES ('00000000-0000-0000-0000-0000000000f1', 'e2', 'webhook', '{}', '{}')");
  EXPECT_TRUE(listener.WaitFor(1, milliseconds(5000)));
}

TEST_F(SchemaTriggerRowsTest, DeletingAnActionKeepsItsJobsButDeletingTheTriggerRemovesThem) {
  ExecSql(dsn_, "DELETE FROM trigger_actions");
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(*) FROM action_jobs WHERE action_id IS NULL"), "1");
  ExecSql(dsn_, "DELETE FROM triggers");
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(*) FROM action_jobs"), "0");
}

TEST_F(SchemaTriggerRowsTest, AJobsIdIsDerivedFromItsActionAndEvent) {
  // Migration 0007: the id (the Idempotency-Key) is a UUIDv8 of (action, event), whatever the
  // inserter asked for, so the same event evaluated again, or ingested again after a restore,
  // gets the same key.
  ExecSql(dsn_,
          "INSERT INTO action_jobs (id, trigger_id, action_id, event_id, action_type, config, "
          "event_data) VALUES ('00000000-0000-0000-0000-00000000dead', "
          "'00000000-0000-0000-0000-0000000000f1', '00000000-0000-0000-0000-0000000000c1', 'e2', "
          "'webhook', '{}', '{}')");
  std::string id = QueryValue(dsn_, "SELECT id FROM action_jobs WHERE event_id = 'e2'");
  EXPECT_EQ(id,
            QueryValue(dsn_, "SELECT auri_job_id('00000000-0000-0000-0000-0000000000c1', 'e2')"));
  EXPECT_NE(id, "00000000-0000-0000-0000-00000000dead");
  EXPECT_EQ(id.substr(14, 1), "8") << id;                                          // version 8
  EXPECT_NE(std::string("89ab").find(id.substr(19, 1)), std::string::npos) << id;  // variant
  EXPECT_NE(id, QueryValue(dsn_, "SELECT id FROM action_jobs WHERE event_id = 'e1'"));
  // A job without an action (inserted by hand) keeps a random id.
  ExecSql(dsn_,
          "INSERT INTO action_jobs (trigger_id, event_id, action_type, config, event_data) "
          "VALUES ('00000000-0000-0000-0000-0000000000f1', 'e3', 'webhook', '{}', '{}'), "
          "('00000000-0000-0000-0000-0000000000f1', 'e3', 'webhook', '{}', '{}')");
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(DISTINCT id) FROM action_jobs WHERE event_id = 'e3'"),
            "2");
}

TEST_F(SchemaTriggerRowsTest, DeletingAnActionOfATriggerWithOtherActionsKeepsTheirReferences) {
  ExecSql(dsn_,
          "INSERT INTO trigger_actions (id, trigger_id, action_type, config) VALUES "
          "('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000f1', "
          "'webhook', '{\"url\": \"http://127.0.0.1:9/\"}');"
          "INSERT INTO action_jobs (trigger_id, action_id, event_id, action_type, config, "
          "event_data) VALUES ('00000000-0000-0000-0000-0000000000f1', "
          "'00000000-0000-0000-0000-0000000000c2', 'e1', 'webhook', '{}', '{}')");
  ExecSql(dsn_, "DELETE FROM trigger_actions WHERE id = '00000000-0000-0000-0000-0000000000c1'");
  EXPECT_EQ(QueryValue(dsn_,
                       "SELECT string_agg(coalesce(action_id::text, 'null'), ',' ORDER BY "
                       "action_id NULLS FIRST) FROM action_jobs"),
            "null,00000000-0000-0000-0000-0000000000c2");
}

TEST_F(SchemaTriggerRowsTest, AnEventCannotCreateTwoJobsForOneAction) {
  EXPECT_THROW(ExecSql(dsn_,
                       "INSERT INTO action_jobs (trigger_id, action_id, event_id, action_type, "
                       "config, event_data) VALUES ('00000000-0000-0000-0000-0000000000f1', "
                       "'00000000-0000-0000-0000-0000000000c1', 'e1', 'webhook', '{}', '{}')"),
               pqxx::unique_violation);
}

}  // namespace
}  // namespace auri
