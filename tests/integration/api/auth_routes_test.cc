// Registration, login with progressive lockout, refresh-token rotation and reuse detection, the
// session cap, logout and GET /auth/me (spec 10-api.md, "Authentication").
#include "tests/integration/api/accounts_fixture.h"

namespace auri::api::test {
namespace {

class AuthRoutesTest : public AccountsFixture {};

TEST_F(AuthRoutesTest, RegisterReturnsTokensAndCreatesPersonalOrganizationOwnedByTheUser) {
  nlohmann::json body = {
      {"username", "Alice.Smith"}, {"email", "alice@example.test"}, {"password", kGoodPassword}};
  ApiResponse r = Call("POST", "/api/v1/auth/register", body.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json["expires_in"], 3600);
  EXPECT_EQ(r.json["refresh_token"].get<std::string>().rfind("urt_", 0), 0u);
  EXPECT_EQ(r.json["user"]["username"], "Alice.Smith");
  EXPECT_EQ(r.json["user"].count("password_hash"), 0u);
  std::string id = r.json["user"]["id"];
  EXPECT_EQ(QueryValue("SELECT o.name || '|' || o.slug || '|' || o.is_personal || '|' || m.role "
                       "FROM organizations o JOIN organization_members m ON m.organization_id = "
                       "o.id WHERE m.user_id = '" +
                       id + "'"),
            "Alice.Smith's Personal|alice-smith-personal|true|owner");
  EXPECT_EQ(QueryValue("SELECT left(password_hash, 10) FROM users WHERE id = '" + id + "'"),
            "$argon2id$");
  // The access token works at once.
  ApiResponse me = CallUser(r.json["token"], "GET", "/api/v1/auth/me");
  EXPECT_EQ(me.status, 200) << me.body;
}

TEST_F(AuthRoutesTest, RegisterRefusesTakenUsernameAndEmailIgnoringCase) {
  Register("bob");
  nlohmann::json same_name = {
      {"username", "BOB"}, {"email", "other@example.test"}, {"password", kGoodPassword}};
  ApiResponse r = Call("POST", "/api/v1/auth/register", same_name.dump());
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.json["error"], "username_exists");
  nlohmann::json same_email = {
      {"username", "robert"}, {"email", "Bob@Example.TEST"}, {"password", kGoodPassword}};
  r = Call("POST", "/api/v1/auth/register", same_email.dump());
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.json["error"], "email_exists");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM users"), "1");
}

TEST_F(AuthRoutesTest, RegisterNamesEveryBadField) {
  nlohmann::json body = {{"username", "a b"}, {"email", "not-an-email"}, {"password", "short"}};
  ApiResponse r = Call("POST", "/api/v1/auth/register", body.dump());
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json["error"], "validation_error");
  const nlohmann::json& fields = r.json["details"]["fields"];
  EXPECT_TRUE(fields.contains("username")) << r.body;
  EXPECT_TRUE(fields.contains("email")) << r.body;
  EXPECT_NE(fields["password"].get<std::string>().find("at least 12"), std::string::npos) << r.body;
  // A common password is refused even when it meets the character rules.
  nlohmann::json common = {
      {"username", "carol"}, {"email", "carol@example.test"}, {"password", "Password123!"}};
  r = Call("POST", "/api/v1/auth/register", common.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(r.json["details"]["fields"].contains("password")) << r.body;
}

TEST_F(AuthRoutesTest, PersonalSlugCollisionGetsASuffixInsteadOfFailing) {
  Register("a.b");
  RegisteredUser second = Register("a-b");
  std::string slug =
      QueryValue("SELECT slug FROM organizations WHERE id = '" + second.personal_org_id + "'");
  EXPECT_EQ(slug.rfind("a-b-personal-", 0), 0u) << slug;
}

TEST_F(AuthRoutesTest, LoginByUsernameOrEmailIgnoringCaseUpdatesLastLogin) {
  RegisteredUser u = Register("dave");
  ApiResponse r = Login("DAVE", kGoodPassword);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["user"]["id"], u.id);
  EXPECT_FALSE(r.json["user"]["last_login_at"].is_null());
  r = Login("Dave@Example.Test", kGoodPassword);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(AuthRoutesTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  Register("erin");
  ApiResponse wrong = Login("erin", "Wrong-password-1!");
  ApiResponse unknown = Login("nobody", "Wrong-password-1!");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.json["error"], "invalid_credentials");
  EXPECT_EQ(wrong.json["error"], unknown.json["error"]);
  EXPECT_EQ(wrong.json["message"], unknown.json["message"]);
}

TEST_F(AuthRoutesTest, FifthFailureLocksForFifteenMinutesAndSuccessAfterTheLockResets) {
  RegisteredUser u = Register("frank");
  for (int i = 1; i <= 4; ++i) {
    ApiResponse r = Login("frank", "Wrong-password-1!");
    ASSERT_EQ(r.status, 401) << "attempt " << i << ": " << r.body;
  }
  ApiResponse locked = Login("frank", "Wrong-password-1!");
  ASSERT_EQ(locked.status, 429) << locked.body;
  EXPECT_EQ(locked.json["error"], "account_locked");
  int retry = std::stoi(locked.Header("retry-after"));
  EXPECT_GE(retry, 890);
  EXPECT_LE(retry, 900);
  // While locked even the right password is refused, and the lock does not grow.
  ApiResponse still = Login("frank", kGoodPassword);
  EXPECT_EQ(still.status, 429) << still.body;
  EXPECT_EQ(QueryValue("SELECT failed_login_attempts FROM users WHERE id = '" + u.id + "'"), "5");

  // Simulate the 15 minutes passing.
  Exec("UPDATE users SET locked_until = now() - interval '1 second' WHERE id = '" + u.id + "'");
  ApiResponse ok = Login("frank", kGoodPassword);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(QueryValue("SELECT failed_login_attempts::text || '|' || (locked_until IS NULL) "
                       "FROM users WHERE id = '" +
                       u.id + "'"),
            "0|true");
}

TEST_F(AuthRoutesTest, LockGrowsWithMoreFailures) {
  RegisteredUser u = Register("grace");
  // Nine failures so far, the last lock already over: the tenth failure locks for 30 minutes.
  Exec(
      "UPDATE users SET failed_login_attempts = 9, locked_until = now() - interval "
      "'1 second' WHERE id = '" +
      u.id + "'");
  ApiResponse r = Login("grace", "Wrong-password-1!");
  ASSERT_EQ(r.status, 429) << r.body;
  int retry = std::stoi(r.Header("retry-after"));
  EXPECT_GE(retry, 1790);
  EXPECT_LE(retry, 1800);
  // 25+ failures: capped at 4 hours.
  Exec("UPDATE users SET failed_login_attempts = 40, locked_until = NULL WHERE id = '" + u.id +
       "'");
  r = Login("grace", "Wrong-password-1!");
  ASSERT_EQ(r.status, 429) << r.body;
  retry = std::stoi(r.Header("retry-after"));
  EXPECT_GE(retry, 4 * 3600 - 10);
  EXPECT_LE(retry, 4 * 3600);
}

TEST_F(AuthRoutesTest, RefreshRotatesAndReuseOfARotatedTokenRevokesTheWholeFamily) {
  RegisteredUser u = Register("heidi");
  ApiResponse first = Refresh(u.refresh_token);
  ASSERT_EQ(first.status, 200) << first.body;
  std::string r1 = first.json["refresh_token"];
  EXPECT_NE(r1, u.refresh_token);
  EXPECT_EQ(first.json["expires_in"], 3600);
  ApiResponse me = CallUser(first.json["token"], "GET", "/api/v1/auth/me");
  EXPECT_EQ(me.status, 200) << me.body;
  ApiResponse second = Refresh(r1);
  ASSERT_EQ(second.status, 200) << second.body;
  std::string r2 = second.json["refresh_token"];

  // The first token again: reuse. Everything of this login dies, including the newest token.
  ApiResponse reuse = Refresh(u.refresh_token);
  EXPECT_EQ(reuse.status, 401) << reuse.body;
  EXPECT_EQ(reuse.json["error"], "invalid_token");
  ApiResponse after = Refresh(r2);
  EXPECT_EQ(after.status, 401) << after.body;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM user_refresh_tokens WHERE user_id = '" + u.id +
                       "' AND revoked_at IS NULL"),
            "0");
}

TEST_F(AuthRoutesTest, ExpiredAndGarbageRefreshTokensAreRefused) {
  RegisteredUser u = Register("ivan");
  Exec("UPDATE user_refresh_tokens SET expires_at = now() - interval '1 second'");
  ApiResponse expired = Refresh(u.refresh_token);
  EXPECT_EQ(expired.status, 401) << expired.body;
  EXPECT_NE(expired.json["message"].get<std::string>().find("expired"), std::string::npos);
  ApiResponse garbage = Refresh("urt_not-a-real-token");
  EXPECT_EQ(garbage.status, 401) << garbage.body;
  ApiResponse unknown = Refresh("urt_" + std::string(43, 'A'));
  EXPECT_EQ(unknown.status, 401) << unknown.body;
}

TEST_F(AuthRoutesTest, AtMostTenLiveSessionsAndTheOldestGoFirst) {
  RegisteredUser u = Register("judy");  // session 1
  std::vector<std::string> tokens = {u.refresh_token};
  for (int i = 0; i < 11; ++i) {  // sessions 2..12
    ApiResponse r = Login("judy", kGoodPassword);
    ASSERT_EQ(r.status, 200) << r.body;
    tokens.push_back(r.json["refresh_token"]);
  }
  EXPECT_EQ(QueryValue("SELECT count(*) FROM user_refresh_tokens WHERE user_id = '" + u.id +
                       "' AND revoked_at IS NULL"),
            "10");
  // The two oldest sessions were revoked; the third oldest and the newest still work.
  EXPECT_EQ(Refresh(tokens[0]).status, 401);
  EXPECT_EQ(Refresh(tokens[1]).status, 401);
  EXPECT_EQ(Refresh(tokens[2]).status, 200);
  EXPECT_EQ(Refresh(tokens[11]).status, 200);
}

TEST_F(AuthRoutesTest, LogoutRevokesTheGivenRefreshTokenOnly) {
  RegisteredUser u = Register("kim");
  ApiResponse other = Login("kim", kGoodPassword);
  ASSERT_EQ(other.status, 200);
  nlohmann::json body = {{"refresh_token", u.refresh_token}};
  ApiResponse out = CallUser(u.token, "POST", "/api/v1/auth/logout", body.dump());
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_EQ(Refresh(u.refresh_token).status, 401);
  EXPECT_EQ(Refresh(other.json["refresh_token"]).status, 200);
  // Logout needs a user token.
  EXPECT_EQ(Call("POST", "/api/v1/auth/logout", body.dump()).status, 401);
}

TEST_F(AuthRoutesTest, LogoutCannotRevokeAnotherUsersToken) {
  RegisteredUser a = Register("leo");
  RegisteredUser b = Register("mia");
  nlohmann::json body = {{"refresh_token", b.refresh_token}};
  EXPECT_EQ(CallUser(a.token, "POST", "/api/v1/auth/logout", body.dump()).status, 204);
  EXPECT_EQ(Refresh(b.refresh_token).status, 200);
}

TEST_F(AuthRoutesTest, MeListsOrganizationsWithRoles) {
  RegisteredUser u = Register("nina");
  SeededUser boss = SeedUser("boss");
  SeedMember(boss.org_id, u.id, "viewer");
  ApiResponse me = CallUser(u.token, "GET", "/api/v1/auth/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json["id"], u.id);
  EXPECT_EQ(me.json["username"], "nina");
  EXPECT_EQ(me.json["email"], "nina@example.test");
  EXPECT_TRUE(me.json.contains("created_at"));
  EXPECT_TRUE(me.json.contains("last_login_at"));
  ASSERT_EQ(me.json["organizations"].size(), 2u) << me.body;
  EXPECT_EQ(me.json["organizations"][0]["role"], "owner");
  EXPECT_EQ(me.json["organizations"][0]["slug"], "nina-personal");
  EXPECT_EQ(me.json["organizations"][1]["id"], boss.org_id);
  EXPECT_EQ(me.json["organizations"][1]["role"], "viewer");
  EXPECT_EQ(Call("GET", "/api/v1/auth/me").status, 401);
}

TEST_F(AuthRoutesTest, PasswordHashedUnderOtherLimitsIsRehashedAtLogin) {
  RegisteredUser u = Register("oscar");
  Result<std::string> interactive = HashPassword(kGoodPassword, Argon2Limits::Interactive());
  ASSERT_TRUE(interactive.ok());
  Exec("UPDATE users SET password_hash = '" + interactive.value() + "' WHERE id = '" + u.id + "'");
  ASSERT_EQ(Login("oscar", kGoodPassword).status, 200);
  std::string stored = QueryValue("SELECT password_hash FROM users WHERE id = '" + u.id + "'");
  EXPECT_NE(stored, interactive.value());
  EXPECT_FALSE(NeedsRehash(stored, Argon2Limits::Minimum()));
  EXPECT_EQ(Login("oscar", kGoodPassword).status, 200);
}

}  // namespace
}  // namespace auri::api::test
