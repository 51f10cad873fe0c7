// The gateway's trigger read cache (api/trigger_cache.h) and the payloads of trigger_changed
// (api/trigger_cache_invalidator.h), with a manual clock.
#include "api/trigger_cache.h"

#include <gtest/gtest.h>

#include "api/trigger_cache_invalidator.h"
#include "tests/unit/manual_clock.h"

namespace auri::api {
namespace {

constexpr char kTrigger[] = "11111111-1111-1111-1111-111111111111";
constexpr char kOther[] = "22222222-2222-2222-2222-222222222222";
constexpr char kOrg[] = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";

class TriggerCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<TriggerCache> Make(TriggerCache::Options options = {}) {
    auto cache = std::make_unique<TriggerCache>(&clock_, options);
    cache->SetActive(true);
    return cache;
  }
  static void Put(TriggerCache& cache, const std::string& id, const std::string& body = "{}") {
    cache.Store(id, kOrg, body, cache.Generation());
  }
  testing::ManualClock clock_;
};

TEST_F(TriggerCacheTest, StoredEntryIsFoundWithItsOrganizationInAnyCase) {
  auto cache = Make();
  cache->Store(kTrigger, "AAAAAAAA-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "body", cache->Generation());
  auto hit = cache->Find("11111111-1111-1111-1111-111111111111");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->organization_id, kOrg);
  EXPECT_EQ(hit->body, "body");
  cache->Forget("11111111-1111-1111-1111-111111111111");
  EXPECT_EQ(cache->Find(kTrigger), nullptr);
}

TEST_F(TriggerCacheTest, EntryExpiresAfterTheTtlWhateverHappens) {
  auto cache = Make({.ttl = std::chrono::milliseconds(1000)});
  Put(*cache, kTrigger);
  clock_.Advance(999);
  EXPECT_NE(cache->Find(kTrigger), nullptr);
  clock_.Advance(1);
  EXPECT_EQ(cache->Find(kTrigger), nullptr);
  EXPECT_EQ(cache->size(), 0u);
}

TEST_F(TriggerCacheTest, ZeroTtlDisablesTheCache) {
  auto cache = Make({.ttl = std::chrono::milliseconds(0)});
  EXPECT_FALSE(cache->enabled());
  Put(*cache, kTrigger);
  EXPECT_EQ(cache->Find(kTrigger), nullptr);
}

TEST_F(TriggerCacheTest, InactiveCacheServesAndStoresNothingAndActivationClears) {
  TriggerCache cache(&clock_, {});
  Put(cache, kTrigger);
  EXPECT_EQ(cache.Find(kTrigger), nullptr);  // not listening yet
  cache.SetActive(true);
  Put(cache, kTrigger);
  ASSERT_NE(cache.Find(kTrigger), nullptr);
  cache.SetActive(false);
  EXPECT_EQ(cache.Find(kTrigger), nullptr);
  cache.SetActive(true);  // notifications may have been missed meanwhile: nothing survives
  EXPECT_EQ(cache.Find(kTrigger), nullptr);
}

// A database read that overlapped an invalidation may predate the change: not stored.
TEST_F(TriggerCacheTest, ReadOverlappingAnInvalidationIsNotStored) {
  auto cache = Make();
  uint64_t before_read = cache->Generation();
  cache->Forget(kOther);  // any trigger: the notification arrived while the read ran
  cache->Store(kTrigger, kOrg, "stale?", before_read);
  EXPECT_EQ(cache->Find(kTrigger), nullptr);
  before_read = cache->Generation();
  cache->ForgetAll();
  cache->Store(kTrigger, kOrg, "stale?", before_read);
  EXPECT_EQ(cache->Find(kTrigger), nullptr);
}

TEST_F(TriggerCacheTest, OldestEntriesAreEvictedBeyondMaxEntries) {
  auto cache = Make({.max_entries = 2});
  Put(*cache, "00000000-0000-0000-0000-000000000001");
  Put(*cache, "00000000-0000-0000-0000-000000000002");
  Put(*cache, "00000000-0000-0000-0000-000000000003");
  EXPECT_EQ(cache->size(), 2u);
  EXPECT_EQ(cache->Find("00000000-0000-0000-0000-000000000001"), nullptr);
  EXPECT_NE(cache->Find("00000000-0000-0000-0000-000000000003"), nullptr);
}

TEST_F(TriggerCacheTest, OldestEntriesAreEvictedBeyondMaxBytesAndHugeBodiesAreNotStored) {
  auto cache = Make({.max_bytes = 10});
  Put(*cache, "00000000-0000-0000-0000-000000000001", "123456");
  Put(*cache, "00000000-0000-0000-0000-000000000002", "123456");
  EXPECT_EQ(cache->Find("00000000-0000-0000-0000-000000000001"), nullptr);
  EXPECT_NE(cache->Find("00000000-0000-0000-0000-000000000002"), nullptr);
  Put(*cache, kTrigger, "12345678901");
  EXPECT_EQ(cache->Find(kTrigger), nullptr);
  EXPECT_EQ(cache->size(), 1u);
}

TEST_F(TriggerCacheTest, ReplacingAnEntryKeepsOneCopy) {
  auto cache = Make({.max_bytes = 10});
  Put(*cache, kTrigger, "12345678");
  Put(*cache, kTrigger, "abcdefgh");
  EXPECT_EQ(cache->size(), 1u);
  EXPECT_EQ(cache->Find(kTrigger)->body, "abcdefgh");
}

TEST_F(TriggerCacheTest, NotificationPayloadForgetsTheNamedTriggerOnly) {
  auto cache = Make();
  Put(*cache, kTrigger);
  Put(*cache, kOther);
  TriggerCacheInvalidator::Apply(
      *cache, R"({"table" : "trigger_actions", "op" : "update", "trigger_id" : ")" +
                  std::string(kTrigger) + R"("})");
  EXPECT_EQ(cache->Find(kTrigger), nullptr);
  EXPECT_NE(cache->Find(kOther), nullptr);
}

TEST_F(TriggerCacheTest, UnreadablePayloadForgetsEverything) {
  for (const char* payload : {"", "not json", R"({"table": "triggers"})", R"({"trigger_id": 5})"}) {
    auto cache = Make();
    Put(*cache, kTrigger);
    TriggerCacheInvalidator::Apply(*cache, payload);
    EXPECT_EQ(cache->Find(kTrigger), nullptr) << payload;
  }
}

}  // namespace
}  // namespace auri::api
