// The role and permission table of spec 10-api.md, "Organizations and roles".
#include "api/access.h"

#include <gtest/gtest.h>

#include "auth/api_key.h"

namespace auri::api {
namespace {

OrgScope UserWith(Role role) {
  OrgScope s;
  s.role = role;
  return s;
}

OrgScope KeyWith(std::initializer_list<ApiKeyPermission> permissions) {
  OrgScope s;
  s.is_api_key = true;
  for (ApiKeyPermission p : permissions) s.permission_bits |= static_cast<unsigned>(p);
  return s;
}

TEST(AccessTest, RolesFormAStrictLadder) {
  const Access all[] = {Access::kRead, Access::kWrite, Access::kDelete, Access::kManage,
                        Access::kOwn};
  // Expected: rows viewer, member, admin, owner × columns read, write, delete, manage, own.
  const bool expected[4][5] = {{true, false, false, false, false},
                               {true, true, true, false, false},
                               {true, true, true, true, false},
                               {true, true, true, true, true}};
  for (int r = 0; r < 4; ++r) {
    for (int a = 0; a < 5; ++a) {
      EXPECT_EQ(Allows(UserWith(static_cast<Role>(r)), all[a]), expected[r][a])
          << RoleName(static_cast<Role>(r)) << " access " << a;
    }
  }
}

TEST(AccessTest, ApiKeyPermissionsAreIndependentAndAdminImpliesTheRest) {
  EXPECT_TRUE(Allows(KeyWith({ApiKeyPermission::kRead}), Access::kRead));
  EXPECT_FALSE(Allows(KeyWith({ApiKeyPermission::kRead}), Access::kWrite));
  EXPECT_FALSE(Allows(KeyWith({ApiKeyPermission::kWrite}), Access::kRead));
  EXPECT_FALSE(Allows(KeyWith({ApiKeyPermission::kWrite}), Access::kDelete));
  EXPECT_TRUE(Allows(KeyWith({ApiKeyPermission::kAdmin}), Access::kDelete));
  EXPECT_TRUE(Allows(KeyWith({ApiKeyPermission::kAdmin}), Access::kManage));
  EXPECT_FALSE(Allows(KeyWith({ApiKeyPermission::kAdmin}), Access::kOwn));
}

TEST(AccessTest, NonMemberIsAllowedNothing) { EXPECT_FALSE(Allows(OrgScope{}, Access::kRead)); }

TEST(AccessTest, UuidSyntax) {
  EXPECT_TRUE(IsUuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(IsUuid("123E4567-E89B-12D3-A456-426614174000"));
  EXPECT_FALSE(IsUuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-12d3-a456-42661417400g"));
  EXPECT_FALSE(IsUuid("' OR 1=1 --"));
}

}  // namespace
}  // namespace auri::api
