// DeleteExpiredAuthRecords: expired refresh tokens and auth_failures older than the retention go;
// live tokens, recent failures and everything else stay.
#include <gtest/gtest.h>

#include "store/pool.h"
#include "store/user_repository.h"
#include "tests/integration/harness.h"
#include "tests/integration/store/store_test_util.h"

namespace auri {
namespace {

TEST(AuthCleanupTest, DeletesOnlyExpiredTokensAndOldFailures) {
  std::string dsn = testing::CreateMigratedDatabase();
  ConnectionPool pool(PoolOptions{.dsn = dsn, .size = 2});
  std::string user = testing::QueryValue(
      dsn,
      "INSERT INTO users (username, email, password_hash) VALUES ('user1', 'user1@x.test', 'h') "
      "RETURNING id::text");
  auto token = [&](const std::string& hash_char, const std::string& expires) {
    testing::ExecSql(dsn,
                     "INSERT INTO user_refresh_tokens (user_id, token_hash, family_id, "
                     "expires_at) VALUES ('" +
                         user + "', repeat('" + hash_char + "', 64), gen_random_uuid(), " +
                         expires + ")");
  };
  token("a", "now() - interval '1 minute'");  // expired
  token("b", "now() - interval '40 days'");   // long expired
  token("c", "now() + interval '1 day'");     // live
  // A live token that replaced an expired one: the chain must not block the delete.
  testing::ExecSql(dsn,
                   "UPDATE user_refresh_tokens SET replaced_by = (SELECT id FROM "
                   "user_refresh_tokens WHERE token_hash = repeat('c', 64)) WHERE "
                   "token_hash = repeat('a', 64)");
  testing::ExecSql(dsn,
                   "INSERT INTO auth_failures (failure_type, created_at) VALUES "
                   "('old', now() - interval '31 days'), ('recent', now() - interval "
                   "'29 days'), ('new', now())");

  Result<AuthCleanupCounts> counts =
      DeleteExpiredAuthRecords(pool, std::chrono::hours(24 * 30), std::chrono::seconds(5));
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->refresh_tokens, 2);
  EXPECT_EQ(counts->auth_failures, 1);
  EXPECT_EQ(testing::QueryValue(dsn,
                                "SELECT string_agg(left(token_hash, 1), ',') FROM "
                                "user_refresh_tokens"),
            "c");
  EXPECT_EQ(testing::QueryValue(dsn,
                                "SELECT string_agg(failure_type, ',' ORDER BY failure_type) "
                                "FROM auth_failures"),
            "new,recent");
  // Nothing left to delete: a second run deletes nothing.
  counts = DeleteExpiredAuthRecords(pool, std::chrono::hours(24 * 30), std::chrono::seconds(5));
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->refresh_tokens + counts->auth_failures, 0);
}

}  // namespace
}  // namespace auri
