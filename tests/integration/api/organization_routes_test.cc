// Organizations, members and the role matrix (spec 10-api.md, "Organizations and roles"): every
// mutating organization, member and API-key route is called by owner, admin, member and viewer
// of a fresh organization and must answer the success status or 403; a non-member gets 404.
#include "tests/integration/api/accounts_fixture.h"

namespace auri::api::test {
namespace {

class OrganizationRoutesTest : public AccountsFixture {};

TEST_F(OrganizationRoutesTest, CreateListGetUpdateAndSlugConflicts) {
  RegisteredUser u = Register("olga");
  ApiResponse created = CallUser(u.token, "POST", "/api/v1/organizations",
                                 R"({"name": "Acme Corp", "slug": "acme", "description": "d"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json["data"]["my_role"], "owner");
  EXPECT_EQ(created.json["data"]["is_personal"], false);
  std::string id = created.json["data"]["id"];

  ApiResponse dup =
      CallUser(u.token, "POST", "/api/v1/organizations", R"({"name": "Other", "slug": "acme"})");
  EXPECT_EQ(dup.status, 409) << dup.body;
  EXPECT_EQ(dup.json["error"], "slug_exists");

  ApiResponse list = CallUser(u.token, "GET", "/api/v1/organizations?limit=1");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.json["pagination"]["total"], 2);
  EXPECT_EQ(list.json["pagination"]["has_more"], true);
  EXPECT_EQ(list.json["data"].size(), 1u);
  EXPECT_EQ(list.json["data"][0]["my_role"], "owner");

  ApiResponse updated = CallUser(u.token, "PUT", "/api/v1/organizations/" + id,
                                 R"({"name": "Acme Inc", "description": null})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.json["data"]["name"], "Acme Inc");
  EXPECT_TRUE(updated.json["data"]["description"].is_null());
  EXPECT_EQ(updated.json["data"]["slug"], "acme");

  ApiResponse taken =
      CallUser(u.token, "PUT", "/api/v1/organizations/" + id, R"({"slug": "olga-personal"})");
  EXPECT_EQ(taken.status, 409) << taken.body;
  EXPECT_EQ(taken.json["error"], "slug_exists");
}

TEST_F(OrganizationRoutesTest, PersonalOrganizationCannotBeDeleted) {
  RegisteredUser u = Register("pete");
  ApiResponse r = CallUser(u.token, "DELETE", "/api/v1/organizations/" + u.personal_org_id);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.json["message"].get<std::string>().find("personal"), std::string::npos);
}

TEST_F(OrganizationRoutesTest, TransferMakesTargetOwnerAndOldOwnerAdmin) {
  RoleOrg org = SeedRoleOrg("tr");
  std::string body = nlohmann::json{{"new_owner_id", org.viewer.id}}.dump();
  ApiResponse r =
      CallUser(org.owner.token, "POST", "/api/v1/organizations/" + org.id + "/transfer", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["data"]["my_role"], "admin");
  auto role = [&](const SeededUser& u) {
    return QueryValue("SELECT role FROM organization_members WHERE organization_id = '" + org.id +
                      "' AND user_id = '" + u.id + "'");
  };
  EXPECT_EQ(role(org.viewer), "owner");
  EXPECT_EQ(role(org.owner), "admin");
  // The target must be a member.
  SeededUser outsider = SeedUser("tr-outsider");
  body = nlohmann::json{{"new_owner_id", outsider.id}}.dump();
  r = CallUser(org.viewer.token, "POST", "/api/v1/organizations/" + org.id + "/transfer", body);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(role(org.viewer), "owner");
}

TEST_F(OrganizationRoutesTest, MembersAddByUsernameOrEmailListChangeAndRemove) {
  RoleOrg org = SeedRoleOrg("mb");
  SeededUser zed = SeedUser("mb-zed");
  std::string base = "/api/v1/organizations/" + org.id + "/members";
  ApiResponse added = CallUser(org.admin.token, "POST", base, R"({"username": "MB-ZED"})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.json["data"]["user_id"], zed.id);
  EXPECT_EQ(added.json["data"]["role"], "member");
  EXPECT_EQ(CallUser(org.admin.token, "POST", base, R"({"email": "mb-zed@example.test"})").status,
            409);
  EXPECT_EQ(CallUser(org.admin.token, "POST", base, R"({"username": "nobody-here"})").status, 404);
  ApiResponse owner_role =
      CallUser(org.owner.token, "POST", base,
               nlohmann::json{{"user_id", SeedUser("mb-other").id}, {"role", "owner"}}.dump());
  EXPECT_EQ(owner_role.status, 400) << owner_role.body;
  EXPECT_TRUE(owner_role.json["details"]["fields"].contains("role"));
  ApiResponse two_names = CallUser(org.admin.token, "POST", base,
                                   R"({"username": "mb-zed", "email": "mb-zed@example.test"})");
  EXPECT_EQ(two_names.status, 400) << two_names.body;

  ApiResponse list = CallUser(org.viewer.token, "GET", base);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.json["pagination"]["total"], 5);
  EXPECT_EQ(list.json["data"][0]["role"], "owner");

  ApiResponse promoted =
      CallUser(org.owner.token, "PUT", base + "/" + zed.id, R"({"role": "admin"})");
  EXPECT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(promoted.json["data"]["role"], "admin");
  // Never to or from owner.
  EXPECT_EQ(CallUser(org.owner.token, "PUT", base + "/" + zed.id, R"({"role": "owner"})").status,
            400);
  EXPECT_EQ(
      CallUser(org.owner.token, "PUT", base + "/" + org.owner.id, R"({"role": "admin"})").status,
      409);
  EXPECT_EQ(CallUser(org.admin.token, "DELETE", base + "/" + org.owner.id).status, 409);
  // A member may leave by itself.
  EXPECT_EQ(CallUser(org.viewer.token, "DELETE", base + "/" + org.viewer.id).status, 204);
  EXPECT_EQ(CallUser(org.admin.token, "DELETE", base + "/" + zed.id).status, 204);
  EXPECT_EQ(CallUser(org.admin.token, "DELETE", base + "/" + zed.id).status, 404);
}

// One mutating route of the matrix: how to call it on a fresh organization and what success is.
struct MatrixRoute {
  std::string name;
  std::vector<std::string> allowed;  // roles that succeed
  int success_status;
};

class RoleMatrixTest : public AccountsFixture {
 protected:
  // Calls `route` on a fresh organization as `role`.
  ApiResponse CallRoute(const std::string& route, const std::string& role, int n) {
    std::string tag = "m" + std::to_string(n);
    RoleOrg org = SeedRoleOrg(tag);
    const std::string& token = org.ByRole(role).token;
    std::string base = "/api/v1/organizations/" + org.id;
    if (route == "update_org") return CallUser(token, "PUT", base, R"({"name": "Renamed"})");
    if (route == "delete_org") return CallUser(token, "DELETE", base);
    if (route == "transfer") {
      return CallUser(token, "POST", base + "/transfer",
                      nlohmann::json{{"new_owner_id", org.member.id}}.dump());
    }
    if (route == "add_member") {
      SeededUser extra = SeedUser(tag + "-extra");
      return CallUser(token, "POST", base + "/members",
                      nlohmann::json{{"user_id", extra.id}, {"role", "viewer"}}.dump());
    }
    if (route == "change_role") {
      return CallUser(token, "PUT", base + "/members/" + org.member.id, R"({"role": "viewer"})");
    }
    if (route == "remove_member") {
      // The viewer removing itself is allowed to anyone: remove someone else (the member), or,
      // for the member role, the viewer.
      const SeededUser& target = role == "member" ? org.viewer : org.member;
      return CallUser(token, "DELETE", base + "/members/" + target.id);
    }
    if (route == "create_key") {
      return CallUser(token, "POST", base + "/api-keys", R"({"name": "k"})");
    }
    auto [key_id, key] = CreateKey(org.owner.token, org.id, {{"name", "existing"}});
    if (route == "update_key") {
      return CallUser(token, "PATCH", "/api/v1/api-keys/" + key_id, R"({"name": "renamed"})");
    }
    if (route == "revoke_key") return CallUser(token, "DELETE", "/api/v1/api-keys/" + key_id);
    if (route == "rotate_key") {
      return CallUser(token, "POST", "/api/v1/api-keys/" + key_id + "/rotate");
    }
    ADD_FAILURE() << "unknown route " << route;
    return {};
  }
};

TEST_F(RoleMatrixTest, EveryMutatingRouteAllowsExactlyTheRolesOfTheSpec) {
  const std::vector<MatrixRoute> routes = {
      {"update_org", {"owner", "admin"}, 200},
      {"delete_org", {"owner"}, 204},
      {"transfer", {"owner"}, 200},
      {"add_member", {"owner", "admin"}, 201},
      {"change_role", {"owner"}, 200},
      {"remove_member", {"owner", "admin"}, 204},
      {"create_key", {"owner", "admin"}, 201},
      {"update_key", {"owner", "admin"}, 200},
      {"revoke_key", {"owner", "admin"}, 204},
      {"rotate_key", {"owner", "admin"}, 201},
  };
  int n = 0;
  for (const MatrixRoute& route : routes) {
    for (const std::string role : {"owner", "admin", "member", "viewer"}) {
      ApiResponse r = CallRoute(route.name, role, ++n);
      bool allowed =
          std::find(route.allowed.begin(), route.allowed.end(), role) != route.allowed.end();
      if (allowed) {
        EXPECT_EQ(r.status, route.success_status) << route.name << " as " << role << ": " << r.body;
      } else {
        EXPECT_EQ(r.status, 403) << route.name << " as " << role << ": " << r.body;
        EXPECT_EQ(r.json["error"], "forbidden") << route.name << " as " << role;
      }
    }
  }
}

TEST_F(RoleMatrixTest, NonMemberGetsNotFoundOnEveryOrganizationPath) {
  RoleOrg org = SeedRoleOrg("nm");
  SeededUser stranger = SeedUser("nm-stranger");
  auto [key_id, key] = CreateKey(org.owner.token, org.id, {{"name", "k"}});
  std::string base = "/api/v1/organizations/" + org.id;
  const std::vector<std::tuple<std::string, std::string, std::string>> calls = {
      {"GET", base, ""},
      {"PUT", base, R"({"name": "x"})"},
      {"DELETE", base, ""},
      {"POST", base + "/transfer", nlohmann::json{{"new_owner_id", stranger.id}}.dump()},
      {"GET", base + "/members", ""},
      {"POST", base + "/members", nlohmann::json{{"user_id", stranger.id}}.dump()},
      {"PUT", base + "/members/" + org.member.id, R"({"role": "viewer"})"},
      {"DELETE", base + "/members/" + org.member.id, ""},
      {"GET", base + "/api-keys", ""},
      {"POST", base + "/api-keys", R"({"name": "x"})"},
      {"GET", "/api/v1/api-keys/" + key_id, ""},
      {"PATCH", "/api/v1/api-keys/" + key_id, R"({"name": "x"})"},
      {"DELETE", "/api/v1/api-keys/" + key_id, ""},
      {"POST", "/api/v1/api-keys/" + key_id + "/rotate", ""},
  };
  for (const auto& [method, path, body] : calls) {
    ApiResponse r = CallUser(stranger.token, method, path, body);
    EXPECT_EQ(r.status, 404) << method << " " << path << ": " << r.body;
    EXPECT_EQ(r.json["error"], "not_found") << method << " " << path;
  }
  // A key of another organization sees nothing either.
  auto [other_id, other_key] =
      CreateKey(stranger.token, stranger.org_id, {{"name", "admin"}, {"permissions", {"admin"}}});
  for (const auto& [method, path, body] : calls) {
    ApiResponse r = Call(method, path, body, KeyHeader(other_key));
    EXPECT_EQ(r.status, 404) << "key: " << method << " " << path << ": " << r.body;
  }
  // Nothing changed.
  EXPECT_EQ(QueryValue("SELECT count(*) FROM organization_members WHERE organization_id = '" +
                       org.id + "'"),
            "4");
  EXPECT_EQ(QueryValue("SELECT revoked_at IS NULL FROM api_keys WHERE id = '" + key_id + "'"), "t");
}

TEST_F(RoleMatrixTest, ReadsNeedMembershipAndKeyListingNeedsAdmin) {
  RoleOrg org = SeedRoleOrg("rd");
  std::string base = "/api/v1/organizations/" + org.id;
  for (const std::string role : {"owner", "admin", "member", "viewer"}) {
    const std::string& token = org.ByRole(role).token;
    EXPECT_EQ(CallUser(token, "GET", base).status, 200) << role;
    EXPECT_EQ(CallUser(token, "GET", base + "/members").status, 200) << role;
    int keys = CallUser(token, "GET", base + "/api-keys").status;
    EXPECT_EQ(keys, role == "owner" || role == "admin" ? 200 : 403) << role;
  }
}

}  // namespace
}  // namespace auri::api::test
