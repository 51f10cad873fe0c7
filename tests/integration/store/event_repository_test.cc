// InsertEvents against a real PostgreSQL: one transaction per batch, duplicates counted by the
// database's id dedupe, one event_queue row per stored event, outages reported as kUnavailable.
#include "store/event_repository.h"

#include <gtest/gtest.h>

#include "pipeline/event.h"
#include "tests/integration/fixture_events.h"
#include "tests/integration/harness.h"
#include "tests/integration/store/store_test_util.h"

namespace auri {
namespace {

using std::chrono::milliseconds;

std::vector<pipeline::Event> FixtureEvents() {
  std::vector<pipeline::Event> events;
  std::string path = testing::RealEventsFixturePath();
  if (path.empty()) return events;
  for (const std::string& line : testing::ReadLines(path)) {
    Result<pipeline::Event> e = pipeline::ValidateEvent(line);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (e.ok()) events.push_back(*e);
  }
  return events;
}

class EventRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::RealEventsFixturePath().empty()) {
      GTEST_SKIP() << "fixture erc8004-real-events.jsonl not found next to the source tree nor "
                      "under $AURI_SHARED_DIR";
    }
    dsn_ = testing::CreateMigratedDatabase();
    pool_ = std::make_unique<ConnectionPool>(PoolOptions{.dsn = dsn_, .size = 2});
  }
  std::string dsn_;
  std::unique_ptr<ConnectionPool> pool_;
};

TEST_F(EventRepositoryTest, InsertsEveryFixtureEventAndEnqueuesEachOnce) {
  std::vector<pipeline::Event> events = FixtureEvents();
  ASSERT_EQ(events.size(), 7u);
  Result<InsertEventsResult> r = InsertEvents(*pool_, events, milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 7);
  EXPECT_EQ(r->duplicates, 0);
  EXPECT_EQ(testing::QueryValue(dsn_, "SELECT count(*) FROM events"), "7");
  EXPECT_EQ(testing::QueryValue(dsn_, "SELECT count(*) FROM event_queue"), "7");
  EXPECT_EQ(testing::QueryValue(dsn_,
                                "SELECT count(*) FROM events e WHERE (SELECT count(*) FROM "
                                "event_queue q WHERE q.event_id = e.id) <> 1"),
            "0");
}

TEST_F(EventRepositoryTest, ReinsertingCountsDuplicatesAndStoresNothingNew) {
  std::vector<pipeline::Event> events = FixtureEvents();
  ASSERT_TRUE(InsertEvents(*pool_, events, milliseconds(5000)).ok());
  Result<InsertEventsResult> again = InsertEvents(*pool_, events, milliseconds(5000));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->accepted, 0);
  EXPECT_EQ(again->duplicates, 7);
  EXPECT_EQ(testing::QueryValue(dsn_, "SELECT count(*) FROM events"), "7");
  EXPECT_EQ(testing::QueryValue(dsn_, "SELECT count(*) FROM event_queue"), "7");
}

TEST_F(EventRepositoryTest, RepeatedIdWithinOneBatchIsOneDuplicate) {
  std::vector<pipeline::Event> events = FixtureEvents();
  events.push_back(events.front());
  Result<InsertEventsResult> r = InsertEvents(*pool_, events, milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 7);
  EXPECT_EQ(r->duplicates, 1);
}

TEST_F(EventRepositoryTest, QuotesBackslashesNullsAndBlockTimeRoundTrip) {
  std::vector<pipeline::Event> events = FixtureEvents();
  pipeline::Event e = events.front();
  e.token_uri = "ipfs://a\"b\\c,{d} NULL";
  ASSERT_TRUE(InsertEvents(*pool_, {e}, milliseconds(5000)).ok());
  EXPECT_EQ(testing::QueryValue(dsn_, "SELECT token_uri FROM events WHERE id = '" + e.id + "'"),
            *e.token_uri);
  EXPECT_EQ(testing::QueryValue(
                dsn_, "SELECT coalesce(block_hash, 'null') FROM events WHERE id = '" + e.id + "'"),
            e.block_hash.value_or("null"));
  EXPECT_EQ(testing::QueryValue(dsn_,
                                "SELECT extract(epoch FROM block_time)::bigint FROM events "
                                "WHERE id = '" +
                                    e.id + "'"),
            std::to_string(e.timestamp));
}

TEST_F(EventRepositoryTest, DatabaseDownIsUnavailableAndRecoversWithoutNewPool) {
  std::vector<pipeline::Event> events = FixtureEvents();
  ASSERT_TRUE(InsertEvents(*pool_, {events[0]}, milliseconds(5000)).ok());
  testing::StopPostgres();
  Result<InsertEventsResult> down = InsertEvents(*pool_, {events[1]}, milliseconds(3000));
  testing::StartPostgres();
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << down.status().ToString();
  Result<InsertEventsResult> up = InsertEvents(*pool_, {events[1]}, milliseconds(5000));
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->accepted, 1);
}

}  // namespace
}  // namespace auri
