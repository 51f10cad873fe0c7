#pragma once
// ApiFixture plus helpers for the account routes: register/login through the API, header lines
// for a bearer token or an API key, and organizations seeded with one member per role.
#include <string>

#include "tests/integration/api/api_fixture.h"

namespace auri::api::test {

inline constexpr const char* kGoodPassword = "Correct-Horse-9-battery!";

inline std::string BearerHeader(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}
inline std::string KeyHeader(const std::string& key) { return "X-API-Key: " + key + "\r\n"; }

// A user registered through POST /auth/register.
struct RegisteredUser {
  std::string id;
  std::string username;
  std::string token;
  std::string refresh_token;
  std::string personal_org_id;
};

// An organization (not personal) with one user per role.
struct RoleOrg {
  std::string id;
  SeededUser owner, admin, member, viewer;
  const SeededUser& ByRole(const std::string& role) const {
    if (role == "owner") return owner;
    if (role == "admin") return admin;
    if (role == "member") return member;
    return viewer;
  }
};

class AccountsFixture : public ApiFixture {
 protected:
  RegisteredUser Register(const std::string& username) {
    nlohmann::json body = {
        {"username", username}, {"email", username + "@example.test"}, {"password", kGoodPassword}};
    ApiResponse r = Call("POST", "/api/v1/auth/register", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    RegisteredUser u;
    if (r.status != 201) return u;
    u.id = r.json["user"]["id"];
    u.username = username;
    u.token = r.json["token"];
    u.refresh_token = r.json["refresh_token"];
    u.personal_org_id = QueryValue(
        "SELECT organization_id::text FROM organization_members WHERE user_id = '" + u.id + "'");
    return u;
  }

  // Runs one statement that writes (QueryValue is read-only).
  void Exec(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  }

  ApiResponse Login(const std::string& name, const std::string& password) {
    nlohmann::json body = {{"username_or_email", name}, {"password", password}};
    return Call("POST", "/api/v1/auth/login", body.dump());
  }

  ApiResponse Refresh(const std::string& refresh_token) {
    nlohmann::json body = {{"refresh_token", refresh_token}};
    return Call("POST", "/api/v1/auth/refresh", body.dump());
  }

  // Call() with a user's bearer token (no X-Organization-ID).
  ApiResponse CallUser(const std::string& token, std::string_view method, std::string_view target,
                       std::string_view body = "") {
    return Call(method, target, body, BearerHeader(token));
  }

  // A fresh non-personal organization with four new seeded users, one per role. `tag` keeps
  // usernames unique within a test.
  RoleOrg SeedRoleOrg(const std::string& tag) {
    RoleOrg org;
    org.owner = SeedUser(tag + "-owner");
    org.admin = SeedUser(tag + "-admin");
    org.member = SeedUser(tag + "-member");
    org.viewer = SeedUser(tag + "-viewer");
    {
      pqxx::connection c(dsn_);
      pqxx::work tx(c);
      org.id = SeedOrganization(tx, tag + "-org", org.owner.id, /*personal=*/false);
      tx.commit();
    }
    SeedMember(org.id, org.admin.id, "admin");
    SeedMember(org.id, org.member.id, "member");
    SeedMember(org.id, org.viewer.id, "viewer");
    return org;
  }

  // Creates an API key in `org_id` as `user` through the API; returns {id, key}.
  std::pair<std::string, std::string> CreateKey(const std::string& token, const std::string& org_id,
                                                const nlohmann::json& body) {
    ApiResponse r =
        CallUser(token, "POST", "/api/v1/organizations/" + org_id + "/api-keys", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    return {r.json["data"]["id"], r.json["data"]["key"]};
  }
};

}  // namespace auri::api::test
