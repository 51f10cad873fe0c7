// The gateway's trigger read cache (api/trigger_cache.h) against the whole gateway and a real
// database: read-your-writes through the API, changes made in SQL (another replica, the
// processor, cascades) arriving through NOTIFY trigger_changed, tenant scope on cached entries,
// and a dropped LISTEN connection clearing the cache.
//
// The cache's ttl is 60 s here, so anything seen to change within the few seconds these tests
// allow was invalidated by a notification or a write, not by expiry (expiry is a unit test).
#include <chrono>
#include <functional>
#include <thread>

#include "auth/api_key.h"
#include "tests/integration/api/api_fixture.h"

namespace auri::api::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class TriggerCacheTest : public ApiFixture {
 protected:
  TriggerCacheTest() { trigger_cache_ms_ = 60000; }

  std::string CreateTrigger(const SeededUser& user) {
    ApiResponse r = CallAs(user, "POST", "/api/v1/triggers", R"({
      "name": "before", "registry": "reputation",
      "conditions": [{"condition_type": "agent_id_equals", "value": 1}],
      "actions": [{"action_type": "webhook", "config": {"url": "https://hooks.example.com/a"}}]})");
    EXPECT_EQ(r.status, 201) << r.body;
    SettleNotifications();
    return r.json["data"]["id"].is_string() ? r.json["data"]["id"].get<std::string>() : "";
  }

  // Waits (bounded) until the gateway has processed every trigger_changed committed so far, such
  // as those of the test's own setup writes, which would otherwise arrive at a random later
  // moment and drop an entry a test expects. NOTIFYs are delivered in commit order, so once a
  // marker sent now has been applied (every applied payload bumps the cache's generation), so
  // have all before it.
  void SettleNotifications() {
    uint64_t before = trigger_cache_->Generation();
    Exec(R"(NOTIFY trigger_changed, '{"trigger_id": "00000000-0000-0000-0000-000000000000"}')");
    auto deadline = steady_clock::now() + std::chrono::seconds(5);
    while (trigger_cache_->Generation() == before && steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    ASSERT_NE(trigger_cache_->Generation(), before) << "the marker notification never arrived";
  }

  // GETs the trigger as `user` until the answer is in the cache (so what follows tests an
  // invalidation, not a miss); bounded. The gateway's own writes notify too, and such a
  // notification may arrive just after a read and drop its entry: hence the retry (and
  // SettleNotifications before anything that must find the entry still there).
  ApiResponse GetCached(const SeededUser& user, const std::string& id) {
    auto deadline = steady_clock::now() + std::chrono::seconds(5);
    ApiResponse r;
    do {
      r = CallAs(user, "GET", "/api/v1/triggers/" + id);
      EXPECT_EQ(r.status, 200) << r.body;
      if (trigger_cache_->Find(id)) return r;
      std::this_thread::sleep_for(milliseconds(20));
    } while (steady_clock::now() < deadline);
    ADD_FAILURE() << "the read was never cached";
    return r;
  }

  void Exec(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  }

  // Polls GET /api/v1/triggers/{id} as `user` until `done` holds; bounded (5 s).
  ApiResponse PollUntil(const SeededUser& user, const std::string& id,
                        const std::function<bool(const ApiResponse&)>& done) {
    auto deadline = steady_clock::now() + std::chrono::seconds(5);
    ApiResponse r;
    while (steady_clock::now() < deadline) {
      r = CallAs(user, "GET", "/api/v1/triggers/" + id);
      if (done(r)) return r;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return r;
  }
};

TEST_F(TriggerCacheTest, RepeatedReadsAreServedFromTheCacheUnchanged) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  ApiResponse first = GetCached(alice, id);
  ApiResponse second = CallAs(alice, "GET", "/api/v1/triggers/" + id);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.Header("content-type"), "application/json");
}

TEST_F(TriggerCacheTest, WritesThroughTheApiAreVisibleOnTheNextGet) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  const std::string t = "/api/v1/triggers/" + id;

  GetCached(alice, id);
  ASSERT_EQ(CallAs(alice, "PUT", t, R"({"name": "after", "registry": "reputation"})").status, 200);
  EXPECT_EQ(CallAs(alice, "GET", t).json["data"]["name"], "after");

  GetCached(alice, id);
  ApiResponse added = CallAs(alice, "POST", t + "/conditions",
                             R"({"condition_type": "agent_id_equals", "value": 2})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(CallAs(alice, "GET", t).json["data"]["conditions"].size(), 2u);

  GetCached(alice, id);
  std::string cid = added.json["data"]["id"];
  ASSERT_EQ(CallAs(alice, "DELETE", t + "/conditions/" + cid).status, 204);
  EXPECT_EQ(CallAs(alice, "GET", t).json["data"]["conditions"].size(), 1u);

  ApiResponse got = GetCached(alice, id);
  std::string aid = got.json["data"]["actions"][0]["id"];
  ASSERT_EQ(CallAs(alice, "PUT", t + "/actions/" + aid,
                   R"({"action_type": "webhook", "priority": 7,
                       "config": {"url": "https://hooks.example.com/b"}})")
                .status,
            200);
  EXPECT_EQ(CallAs(alice, "GET", t).json["data"]["actions"][0]["priority"], 7);
}

TEST_F(TriggerCacheTest, DeletedTriggerIsNotFoundOnTheNextGet) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  GetCached(alice, id);
  ASSERT_EQ(CallAs(alice, "DELETE", "/api/v1/triggers/" + id).status, 204);
  ApiResponse r = CallAs(alice, "GET", "/api/v1/triggers/" + id);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.json["message"], "trigger not found");
}

// Another gateway replica or the processor writes the database directly: the gateway hears it
// through NOTIFY trigger_changed, well before the 60 s ttl.
TEST_F(TriggerCacheTest, SqlChangeOfTheTriggerBecomesVisibleThroughTheNotification) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  GetCached(alice, id);
  Exec("UPDATE triggers SET name = 'renamed in sql' WHERE id = '" + id + "'");
  ApiResponse r = PollUntil(
      alice, id, [](const ApiResponse& r) { return r.json["data"]["name"] == "renamed in sql"; });
  EXPECT_EQ(r.json["data"]["name"], "renamed in sql") << r.body;
}

TEST_F(TriggerCacheTest, SqlChangesOfConditionsAndActionsBecomeVisibleThroughTheNotification) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  GetCached(alice, id);
  Exec("UPDATE trigger_conditions SET value = '99' WHERE trigger_id = '" + id + "'");
  ApiResponse r = PollUntil(alice, id, [](const ApiResponse& r) {
    return r.json["data"]["conditions"][0]["value"] == "99";
  });
  EXPECT_EQ(r.json["data"]["conditions"][0]["value"], "99") << r.body;

  GetCached(alice, id);
  Exec("DELETE FROM trigger_actions WHERE trigger_id = '" + id + "'");
  r = PollUntil(alice, id, [](const ApiResponse& r) { return r.json["data"]["actions"].empty(); });
  EXPECT_TRUE(r.json["data"]["actions"].empty()) << r.body;
}

TEST_F(TriggerCacheTest, SqlDeleteMakesTheCachedTriggerNotFound) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  GetCached(alice, id);
  Exec("DELETE FROM triggers WHERE id = '" + id + "'");
  ApiResponse r = PollUntil(alice, id, [](const ApiResponse& r) { return r.status == 404; });
  EXPECT_EQ(r.status, 404) << r.body;
}

// A cached entry never bypasses the tenant check: callers of another organization get what the
// database would answer.
TEST_F(TriggerCacheTest, CallersOfAnotherOrganizationStillGetNotFoundForACachedTrigger) {
  SeededUser alice = SeedUser("alice");
  SeededUser bob = SeedUser("bob");
  std::string id = CreateTrigger(alice);
  GetCached(alice, id);

  ApiResponse own_org = CallAs(bob, "GET", "/api/v1/triggers/" + id);
  EXPECT_EQ(own_org.status, 404) << own_org.body;
  EXPECT_EQ(own_org.json["message"], "trigger not found");
  EXPECT_NE(trigger_cache_->Find(id), nullptr) << "bob's read was not tested against an entry";
  // Naming alice's organization: bob is not a member.
  ApiResponse named = CallAs(bob, "GET", "/api/v1/triggers/" + id, "", alice.org_id);
  EXPECT_EQ(named.status, 403) << named.body;

  Result<NewApiKey> key = GenerateApiKey(ApiKeyEnvironment::kLive, Argon2Limits::Minimum());
  ASSERT_TRUE(key.ok());
  {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec_params(
        "INSERT INTO api_keys (organization_id, name, prefix, key_hash, environment, "
        "permissions) VALUES ($1, 'k', $2, $3, 'live', '{read}')",
        bob.org_id, key->prefix, key->hash);
    tx.commit();
  }
  ApiResponse with_key =
      Call("GET", "/api/v1/triggers/" + id, "", "X-API-Key: " + key->key + "\r\n");
  EXPECT_EQ(with_key.status, 404) << with_key.body;
  // The entry is still there, and alice is still served.
  EXPECT_NE(trigger_cache_->Find(id), nullptr);
  EXPECT_EQ(CallAs(alice, "GET", "/api/v1/triggers/" + id).status, 200);
}

// Without its LISTEN connection the cache could miss changes: it is cleared and serves nothing
// until the invalidator has reconnected (and cleared it again).
TEST_F(TriggerCacheTest, DroppedListenConnectionClearsTheCacheUntilReconnected) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  GetCached(alice, id);
  Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND query ILIKE 'LISTEN%'");
  auto deadline = steady_clock::now() + std::chrono::seconds(5);
  while (trigger_cache_->Find(id) && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(trigger_cache_->Find(id), nullptr) << "the cache outlived its LISTEN connection";
  EXPECT_TRUE(WaitForTriggerCacheActive());
  EXPECT_EQ(CallAs(alice, "GET", "/api/v1/triggers/" + id).status, 200);
  EXPECT_NE(trigger_cache_->Find(id), nullptr) << "not caching again after the reconnect";
}

}  // namespace
}  // namespace auri::api::test
