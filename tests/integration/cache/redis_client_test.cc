// RedisClient against the real Redis server started by the harness. Every key starts with the
// test's KeyPrefix(), so tests never see each other's data.
#include "cache/redis_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int kTimeoutMs = 500;

class RedisClientIntegrationTest : public ::testing::Test {
 protected:
  static RedisOptions Options() {
    const testing::Services& s = testing::GetServices();
    RedisOptions o;
    o.host = s.redis_host;
    o.port = s.redis_port;
    o.timeout_ms = kTimeoutMs;
    o.pool_size = 4;
    return o;
  }

  // Polls Ping until it succeeds or `limit` passes (the server may need a moment after a restart).
  static Status PingUntilOk(RedisClient& client, milliseconds limit) {
    auto deadline = steady_clock::now() + limit;
    Status s = client.Ping();
    while (!s.ok() && steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
      s = client.Ping();
    }
    return s;
  }

  std::string prefix_ = testing::KeyPrefix();
};

TEST_F(RedisClientIntegrationTest, PingSucceeds) {
  RedisClient client(Options());
  Status s = client.Ping();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(RedisClientIntegrationTest, SetThenGetReturnsTheValue) {
  RedisClient client(Options());
  std::string binary("v\0al\r\nue", 8);
  ASSERT_TRUE(client.Set(prefix_ + "k", binary).ok());
  Result<std::string> got = client.Get(prefix_ + "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, binary);
}

TEST_F(RedisClientIntegrationTest, GetOfMissingKeyIsNotFound) {
  RedisClient client(Options());
  Result<std::string> got = client.Get(prefix_ + "missing");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "redis key " + prefix_ + "missing does not exist");
}

TEST_F(RedisClientIntegrationTest, SetWithTtlSetsAnExpiryInMilliseconds) {
  RedisClient client(Options());
  ASSERT_TRUE(client.Set(prefix_ + "ttl", "v", 60'000).ok());
  ASSERT_TRUE(client.Set(prefix_ + "forever", "v").ok());

  Result<RedisReply> ttl = client.Command({"PTTL", prefix_ + "ttl"});
  Result<RedisReply> no_ttl = client.Command({"PTTL", prefix_ + "forever"});

  ASSERT_TRUE(ttl.ok() && no_ttl.ok());
  EXPECT_GT(ttl->integer(), 50'000);
  EXPECT_LE(ttl->integer(), 60'000);
  EXPECT_EQ(no_ttl->integer(), -1);
}

TEST_F(RedisClientIntegrationTest, IncrCountsFromZero) {
  RedisClient client(Options());
  EXPECT_EQ(*client.Incr(prefix_ + "n"), 1);
  EXPECT_EQ(*client.Incr(prefix_ + "n"), 2);
  EXPECT_EQ(*client.Get(prefix_ + "n"), "2");
}

TEST_F(RedisClientIntegrationTest, IncrOfNonIntegerIsInternalWithRedisMessage) {
  RedisClient client(Options());
  ASSERT_TRUE(client.Set(prefix_ + "text", "abc").ok());
  Result<int64_t> n = client.Incr(prefix_ + "text");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kInternal);
  EXPECT_NE(n.status().message().find("INCR failed: ERR value is not an integer"),
            std::string::npos)
      << n.status().message();
}

TEST_F(RedisClientIntegrationTest, ConcurrentIncrsFromManyThreadsAreAllCounted) {
  RedisClient client(Options());
  constexpr int kThreads = 8, kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!client.Incr(prefix_ + "c").ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*client.Get(prefix_ + "c"), std::to_string(kThreads * kPerThread));
}

constexpr char kIncrByAndReport[] =
    "local n = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
    "return {n, ARGV[2], false}\n";

TEST_F(RedisClientIntegrationTest, EvalPassesKeysAndArgsAndReturnsNestedReplies) {
  RedisClient client(Options());
  Result<RedisReply> r = client.Eval(kIncrByAndReport, {prefix_ + "e"}, {"5", "tag"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->DebugString(), "[5, \"tag\", nil]");
  r = client.Eval(kIncrByAndReport, {prefix_ + "e"}, {"2", "again"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->DebugString(), "[7, \"again\", nil]");
}

TEST_F(RedisClientIntegrationTest, EvalReloadsTheScriptAfterRedisLosesItsScriptCache) {
  RedisClient client(Options());
  ASSERT_TRUE(client.Eval(kIncrByAndReport, {prefix_ + "f"}, {"1", "x"}).ok());
  ASSERT_TRUE(client.Command({"SCRIPT", "FLUSH"}).ok());

  Result<RedisReply> r = client.Eval(kIncrByAndReport, {prefix_ + "f"}, {"1", "x"});

  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->elements()[0].integer(), 2) << "the script ran exactly once more";
}

TEST_F(RedisClientIntegrationTest, ScriptErrorIsInternalWithRedisMessage) {
  RedisClient client(Options());
  Result<RedisReply> r = client.Eval("return redis.call('NOSUCHCOMMAND')", {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("EVALSHA failed:"), std::string::npos)
      << r.status().message();
}

TEST_F(RedisClientIntegrationTest, SameClientWorksAgainAfterRedisRestarts) {
  RedisClient client(Options());
  // Fill the pool so the restart leaves idle connections that are all dead.
  ASSERT_TRUE(client.Set(prefix_ + "before", "1").ok());
  ASSERT_TRUE(client.Ping().ok());

  testing::StopRedis();
  const std::string where =
      "redis at " + client.options().host + ":" + std::to_string(client.options().port) + ": ";

  // Twice: the first call may find a dead pooled connection, the second must connect afresh.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto start = steady_clock::now();
    Status s = client.Ping();
    auto took = steady_clock::now() - start;
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    EXPECT_EQ(s.message().rfind(where, 0), 0u) << s.message();
    EXPECT_FALSE(s.hint().empty());
    EXPECT_LT(took, milliseconds(kTimeoutMs + 500)) << "a call must not hang while Redis is down";
  }

  testing::StartRedis();

  Status s = PingUntilOk(client, milliseconds(5000));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(client.Set(prefix_ + "after", "2").ok());
  EXPECT_EQ(*client.Get(prefix_ + "after"), "2");
  EXPECT_EQ(*client.Incr(prefix_ + "n"), 1);
}

}  // namespace
}  // namespace auri
