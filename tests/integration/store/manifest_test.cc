// The configuration manifest is independent of physical row order and changes when any defining
// column of any configuration row changes.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "store/manifest_repository.h"
#include "tests/integration/harness.h"

namespace auri {
namespace {

// Two users, an organization with both as members, a trigger with a condition and an action,
// inserted in the given order of users (the ids are fixed so both databases hold equal rows).
void Seed(const std::string& dsn, bool reversed) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  const char* users[2][2] = {{"11111111-1111-1111-1111-111111111111", "alice"},
                             {"22222222-2222-2222-2222-222222222222", "bob"}};
  for (int i = 0; i < 2; ++i) {
    auto& u = users[reversed ? 1 - i : i];
    tx.exec_params(
        "INSERT INTO users (id, username, email, password_hash, created_at) VALUES "
        "($1, $2, $2 || '@x.test', 'h', '2026-01-01T00:00:00Z')",
        u[0], u[1]);
  }
  tx.exec(
      "INSERT INTO organizations (id, name, slug, created_at) VALUES "
      "('33333333-3333-3333-3333-333333333333', 'Org', 'org', '2026-01-01T00:00:00Z')");
  tx.exec(
      "INSERT INTO organization_members VALUES ('33333333-3333-3333-3333-333333333333', "
      "'11111111-1111-1111-1111-111111111111', 'owner', now())");
  tx.exec(
      "INSERT INTO organization_members VALUES ('33333333-3333-3333-3333-333333333333', "
      "'22222222-2222-2222-2222-222222222222', 'viewer', now())");
  tx.exec(
      "INSERT INTO triggers (id, organization_id, name, registry, created_at) VALUES "
      "('44444444-4444-4444-4444-444444444444', '33333333-3333-3333-3333-333333333333', "
      "'t', 'reputation', '2026-01-01T00:00:00Z')");
  tx.exec(
      "INSERT INTO trigger_conditions (id, trigger_id, condition_type, operator, value) "
      "VALUES ('55555555-5555-5555-5555-555555555555', "
      "'44444444-4444-4444-4444-444444444444', 'score_threshold', '<', '60')");
  tx.exec(
      "INSERT INTO trigger_actions (id, trigger_id, action_type, config) VALUES "
      "('66666666-6666-6666-6666-666666666666', '44444444-4444-4444-4444-444444444444', "
      "'webhook', '{\"url\": \"https://example.com\"}')");
  tx.commit();
}

std::vector<ManifestTable> Manifest(const std::string& dsn) {
  ConnectionPool pool(PoolOptions{.dsn = dsn, .size = 1});
  Result<std::vector<ManifestTable>> m = ComputeManifest(pool, std::chrono::seconds(5));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? m.value() : std::vector<ManifestTable>{};
}

TEST(ManifestTest, SameRowsInAnotherOrderGiveTheSameManifest) {
  std::string a = auri::testing::CreateMigratedDatabase();
  std::string b = auri::testing::CreateMigratedDatabase();
  Seed(a, false);
  Seed(b, true);
  std::vector<ManifestTable> ma = Manifest(a);
  ASSERT_EQ(ma.size(), 7u);
  EXPECT_EQ(ma, Manifest(b));
  EXPECT_EQ(ma[0].table, "users");
  EXPECT_EQ(ma[0].rows, 2);
  EXPECT_EQ(ma[2].rows, 2);  // members
}

TEST(ManifestTest, AnyChangedDefiningColumnChangesThatTablesChecksumOnly) {
  std::string dsn = auri::testing::CreateMigratedDatabase();
  Seed(dsn, false);
  std::vector<ManifestTable> before = Manifest(dsn);
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    tx.exec("UPDATE trigger_conditions SET value = '61'");
    // Runtime state is not part of the manifest.
    tx.exec("UPDATE users SET last_login_at = now(), failed_login_attempts = 3");
    tx.commit();
  }
  std::vector<ManifestTable> after = Manifest(dsn);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    if (after[i].table == "trigger_conditions") {
      EXPECT_NE(after[i].checksum, before[i].checksum);
      EXPECT_EQ(after[i].rows, before[i].rows);
    } else {
      EXPECT_EQ(after[i], before[i]) << after[i].table;
    }
  }
}

}  // namespace
}  // namespace auri
