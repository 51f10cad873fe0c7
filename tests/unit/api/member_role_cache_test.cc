// The membership-role cache in front of the per-request organization check (api/access.h).
#include "api/member_role_cache.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/unit/manual_clock.h"

namespace auri::api {
namespace {

constexpr char kOrg[] = "11111111-1111-1111-1111-111111111111";
constexpr char kOtherOrg[] = "22222222-2222-2222-2222-222222222222";
constexpr char kUser[] = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";

// A membership table in memory that counts how often it is asked.
struct FakeMembers {
  std::map<std::pair<std::string, std::string>, std::string> roles;
  int lookups = 0;
  bool fail = false;
  std::function<void()> during_lookup;  // runs inside the lookup (a concurrent change)

  MemberRoleCache::Lookup AsLookup() {
    return [this](const std::string& org,
                  const std::string& user) -> Result<std::optional<std::string>> {
      ++lookups;
      if (during_lookup) during_lookup();
      if (fail) return Unavailable("database down");
      auto it = roles.find({org, user});
      if (it == roles.end()) return std::optional<std::string>();
      return std::optional<std::string>(it->second);
    };
  }
};

class MemberRoleCacheTest : public ::testing::Test {
 protected:
  MemberRoleCache Make(int64_t ttl_ms = 1000, size_t max_entries = 100) {
    return MemberRoleCache(members_.AsLookup(), &clock_,
                           {.ttl = std::chrono::milliseconds(ttl_ms), .max_entries = max_entries});
  }
  std::string RoleOf(MemberRoleCache& cache, const std::string& org = kOrg,
                     const std::string& user = kUser) {
    Result<std::optional<std::string>> r = cache.Find(org, user);
    if (!r.ok()) return "error: " + r.status().message();
    return r.value().value_or("none");
  }

  FakeMembers members_;
  testing::ManualClock clock_;
};

TEST_F(MemberRoleCacheTest, AFoundRoleIsReusedUntilTheTtlPasses) {
  members_.roles[{kOrg, kUser}] = "admin";
  MemberRoleCache cache = Make(1000);
  EXPECT_EQ(RoleOf(cache), "admin");
  members_.roles[{kOrg, kUser}] = "viewer";  // changed behind the cache's back
  clock_.Advance(999);
  EXPECT_EQ(RoleOf(cache), "admin");
  EXPECT_EQ(members_.lookups, 1);
  clock_.Advance(1);
  EXPECT_EQ(RoleOf(cache), "viewer");
  EXPECT_EQ(members_.lookups, 2);
}

TEST_F(MemberRoleCacheTest, NonMembersAreAskedEveryTimeSoANewMemberIsNeverRefused) {
  MemberRoleCache cache = Make();
  EXPECT_EQ(RoleOf(cache), "none");
  members_.roles[{kOrg, kUser}] = "member";
  EXPECT_EQ(RoleOf(cache), "member");
  EXPECT_EQ(members_.lookups, 2);
}

TEST_F(MemberRoleCacheTest, FailuresAreReturnedAndNotCached) {
  members_.roles[{kOrg, kUser}] = "member";
  members_.fail = true;
  MemberRoleCache cache = Make();
  EXPECT_EQ(RoleOf(cache), "error: database down");
  members_.fail = false;
  EXPECT_EQ(RoleOf(cache), "member");
}

TEST_F(MemberRoleCacheTest, ForgetOrganizationDropsItsRolesInAnyCaseAndKeepsOthers) {
  members_.roles[{kOrg, kUser}] = "admin";
  members_.roles[{kOtherOrg, kUser}] = "owner";
  MemberRoleCache cache = Make();
  EXPECT_EQ(RoleOf(cache, kOrg), "admin");
  EXPECT_EQ(RoleOf(cache, kOtherOrg), "owner");
  members_.roles.erase({kOrg, kUser});
  members_.roles[{kOtherOrg, kUser}] = "viewer";
  std::string upper = kOrg;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  cache.ForgetOrganization(upper);
  EXPECT_EQ(RoleOf(cache, kOrg), "none");
  EXPECT_EQ(RoleOf(cache, kOtherOrg), "owner");  // still cached: not forgotten
}

TEST_F(MemberRoleCacheTest, IdsDifferingOnlyInCaseShareOneEntry) {
  members_.roles[{kOrg, kUser}] = "member";
  std::string upper = kOrg;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  MemberRoleCache cache = Make();
  EXPECT_EQ(RoleOf(cache, kOrg), "member");
  EXPECT_EQ(RoleOf(cache, upper), "member");
  EXPECT_EQ(members_.lookups, 1);
}

TEST_F(MemberRoleCacheTest, AnAnswerLookedUpWhileTheOrganizationWasForgottenIsNotCached) {
  members_.roles[{kOrg, kUser}] = "admin";
  MemberRoleCache cache = Make();
  // The lookup read "admin"; meanwhile a handler demoted the user and forgot the organization.
  members_.during_lookup = [&] { cache.ForgetOrganization(kOrg); };
  EXPECT_EQ(RoleOf(cache), "admin");
  members_.during_lookup = nullptr;
  members_.roles[{kOrg, kUser}] = "viewer";
  EXPECT_EQ(RoleOf(cache), "viewer");
  EXPECT_EQ(members_.lookups, 2);
}

TEST_F(MemberRoleCacheTest, ZeroTtlAsksEveryTime) {
  members_.roles[{kOrg, kUser}] = "member";
  MemberRoleCache cache = Make(0);
  EXPECT_EQ(RoleOf(cache), "member");
  EXPECT_EQ(RoleOf(cache), "member");
  EXPECT_EQ(members_.lookups, 2);
}

TEST_F(MemberRoleCacheTest, ItHoldsAtMostMaxEntries) {
  const std::string users[] = {"aaaaaaaa-0000-0000-0000-000000000001",
                               "aaaaaaaa-0000-0000-0000-000000000002",
                               "aaaaaaaa-0000-0000-0000-000000000003"};
  for (const std::string& u : users) members_.roles[{kOrg, u}] = "viewer";
  MemberRoleCache cache = Make(1000, /*max_entries=*/2);
  RoleOf(cache, kOrg, users[0]);
  RoleOf(cache, kOrg, users[1]);
  EXPECT_EQ(members_.lookups, 2);
  RoleOf(cache, kOrg, users[2]);  // full and nothing expired: everything goes, then this one
  EXPECT_EQ(members_.lookups, 3);
  RoleOf(cache, kOrg, users[2]);
  EXPECT_EQ(members_.lookups, 3);
  RoleOf(cache, kOrg, users[0]);
  EXPECT_EQ(members_.lookups, 4);
}

}  // namespace
}  // namespace auri::api
