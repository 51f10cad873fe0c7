// API keys through the API (spec 10-api.md): create (shown once), list/get without secrets,
// patch, revoke, rotate, audit rows, permission enforcement and no escalation; the account
// journey; timing of unknown-prefix vs wrong-key answers; secrets never logged.
#include <algorithm>
#include <chrono>

#include "tests/integration/api/accounts_fixture.h"

namespace auri::api::test {
namespace {

class ApiKeyRoutesTest : public AccountsFixture {};

TEST_F(ApiKeyRoutesTest, JourneyFromRegistrationToARevokedKey) {
  // register → login → me → create org → add member → create key → use it (read the org; create,
  // list, update and delete a trigger with conditions and actions) → revoke → rejected
  RegisteredUser alice = Register("alice");
  RegisteredUser bob = Register("bob");
  ApiResponse login = Login("alice@example.test", kGoodPassword);
  ASSERT_EQ(login.status, 200) << login.body;
  std::string token = login.json["token"];
  ApiResponse me = CallUser(token, "GET", "/api/v1/auth/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json["id"], alice.id);

  ApiResponse org =
      CallUser(token, "POST", "/api/v1/organizations", R"({"name": "Acme", "slug": "acme"})");
  ASSERT_EQ(org.status, 201) << org.body;
  std::string org_id = org.json["data"]["id"];
  ApiResponse member = CallUser(token, "POST", "/api/v1/organizations/" + org_id + "/members",
                                R"({"username": "bob", "role": "member"})");
  ASSERT_EQ(member.status, 201) << member.body;
  EXPECT_EQ(member.json["data"]["user_id"], bob.id);

  ApiResponse created = CallUser(token, "POST", "/api/v1/organizations/" + org_id + "/api-keys",
                                 R"({"name": "ci", "permissions": ["read", "write", "delete"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string key = created.json["data"]["key"];
  std::string key_id = created.json["data"]["id"];
  EXPECT_EQ(key.size(), 51u);
  EXPECT_EQ(key.rfind("sk_live_", 0), 0u);
  EXPECT_EQ(created.json["data"]["prefix"], key.substr(0, 16));

  ApiResponse used = Call("GET", "/api/v1/organizations/" + org_id, "", KeyHeader(key));
  ASSERT_EQ(used.status, 200) << used.body;
  EXPECT_EQ(used.json["data"]["id"], org_id);
  // Bearer works too.
  EXPECT_EQ(Call("GET", "/api/v1/organizations/" + org_id, "", BearerHeader(key)).status, 200);

  // The key acts in its own organization (no X-Organization-ID needed).
  ApiResponse trigger = Call("POST", "/api/v1/triggers", R"({
      "name": "low scores", "registry": "reputation", "chain_id": 11155111,
      "conditions": [{"condition_type": "score_threshold", "operator": "<", "value": 60}],
      "actions": [{"action_type": "webhook", "config": {"url": "https://hooks.example/auri"}}]})",
                             KeyHeader(key));
  ASSERT_EQ(trigger.status, 201) << trigger.body;
  std::string trigger_id = trigger.json["data"]["id"];
  EXPECT_EQ(trigger.json["data"]["conditions"].size(), 1u);
  EXPECT_EQ(trigger.json["data"]["actions"].size(), 1u);
  ApiResponse listed = Call("GET", "/api/v1/triggers", "", KeyHeader(key));
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.json["pagination"]["total"], 1);
  EXPECT_EQ(listed.json["data"][0]["id"], trigger_id);
  ApiResponse updated = Call(
      "PUT", "/api/v1/triggers/" + trigger_id,
      R"({"name": "very low scores", "registry": "reputation", "enabled": false})", KeyHeader(key));
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.json["data"]["name"], "very low scores");
  EXPECT_EQ(updated.json["data"]["enabled"], false);
  // Bob (a member) sees the organization's trigger through his own token.
  ApiResponse as_bob =
      Call("GET", "/api/v1/triggers/" + trigger_id, "",
           "Authorization: Bearer " + bob.token + "\r\nX-Organization-ID: " + org_id + "\r\n");
  EXPECT_EQ(as_bob.status, 200) << as_bob.body;
  ApiResponse deleted = Call("DELETE", "/api/v1/triggers/" + trigger_id, "", KeyHeader(key));
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(Call("GET", "/api/v1/triggers/" + trigger_id, "", KeyHeader(key)).status, 404);

  ApiResponse revoked = CallUser(token, "DELETE", "/api/v1/api-keys/" + key_id);
  ASSERT_EQ(revoked.status, 204) << revoked.body;
  ApiResponse rejected = Call("GET", "/api/v1/organizations/" + org_id, "", KeyHeader(key));
  EXPECT_EQ(rejected.status, 401) << rejected.body;
  EXPECT_EQ(rejected.json["error"], "invalid_token");
  EXPECT_EQ(Call("GET", "/api/v1/triggers", "", KeyHeader(key)).status, 401);

  EXPECT_EQ(QueryValue("SELECT string_agg(DISTINCT event_type, ',' ORDER BY event_type) FROM "
                       "api_key_audit_log WHERE api_key_id = '" +
                       key_id + "'"),
            "auth_failed,created,revoked,used");
}

TEST_F(ApiKeyRoutesTest, SecretIsShownOnlyOnceAndNeverListed) {
  SeededUser u = SeedUser("owner1");
  auto [id, key] = CreateKey(u.token, u.org_id,
                             {{"name", "deploy"},
                              {"environment", "test"},
                              {"permissions", {"write", "read", "read"}},
                              {"rate_limit_override", 500},
                              {"expires_at", "2099-01-01T00:00:00Z"}});
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(key.rfind("sk_test_", 0), 0u);
  ApiResponse got = CallUser(u.token, "GET", "/api/v1/api-keys/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_FALSE(got.json["data"].contains("key"));
  EXPECT_FALSE(got.json["data"].contains("key_hash"));
  EXPECT_EQ(got.json["data"]["permissions"], nlohmann::json({"read", "write"}));
  EXPECT_EQ(got.json["data"]["rate_limit_override"], 500);
  EXPECT_EQ(got.json["data"]["expires_at"], "2099-01-01T00:00:00.000Z");
  ApiResponse list = CallUser(u.token, "GET", "/api/v1/organizations/" + u.org_id + "/api-keys");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.json["pagination"]["total"], 1);
  EXPECT_EQ(list.body.find(key), std::string::npos);
  EXPECT_EQ(list.body.find("$argon2id$"), std::string::npos);
  EXPECT_EQ(got.body.find("$argon2id$"), std::string::npos);
}

TEST_F(ApiKeyRoutesTest, PermissionsAreEnforcedAndAKeyCannotEscalate) {
  SeededUser u = SeedUser("owner2");
  auto [read_id, read_key] = CreateKey(u.token, u.org_id, {{"name", "r"}});
  auto [admin_id, admin_key] =
      CreateKey(u.token, u.org_id, {{"name", "a"}, {"permissions", {"admin"}}});
  std::string keys = "/api/v1/organizations/" + u.org_id + "/api-keys";
  // A read key can read the organization but cannot mint keys (not even read keys).
  EXPECT_EQ(Call("GET", "/api/v1/organizations/" + u.org_id, "", KeyHeader(read_key)).status, 200);
  ApiResponse mint =
      Call("POST", keys, R"({"name": "x", "permissions": ["admin"]})", KeyHeader(read_key));
  EXPECT_EQ(mint.status, 403) << mint.body;
  EXPECT_EQ(Call("PATCH", "/api/v1/api-keys/" + read_id, R"({"permissions": ["admin"]})",
                 KeyHeader(read_key))
                .status,
            403);
  EXPECT_EQ(
      Call("PUT", "/api/v1/organizations/" + u.org_id, R"({"name": "x"})", KeyHeader(read_key))
          .status,
      403);
  // An admin key manages keys, but owner-only actions stay out of reach of every key.
  ApiResponse by_key = Call("POST", keys, R"({"name": "made-by-key"})", KeyHeader(admin_key));
  EXPECT_EQ(by_key.status, 201) << by_key.body;
  EXPECT_TRUE(by_key.json["data"]["created_by"].is_null());
  EXPECT_EQ(Call("DELETE", "/api/v1/organizations/" + u.org_id, "", KeyHeader(admin_key)).status,
            403);
  // Routes about a user refuse keys.
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", "", KeyHeader(admin_key)).status, 403);
  EXPECT_EQ(
      Call("POST", "/api/v1/organizations", R"({"name": "n", "slug": "n"})", KeyHeader(admin_key))
          .status,
      403);
}

TEST_F(ApiKeyRoutesTest, PatchChangesPermissionsAtOnce) {
  SeededUser u = SeedUser("owner3");
  auto [id, key] = CreateKey(u.token, u.org_id, {{"name", "k"}, {"permissions", {"admin"}}});
  std::string keys = "/api/v1/organizations/" + u.org_id + "/api-keys";
  EXPECT_EQ(Call("GET", keys, "", KeyHeader(key)).status, 200);  // cached as admin now
  ApiResponse patched =
      CallUser(u.token, "PATCH", "/api/v1/api-keys/" + id,
               R"({"permissions": ["read"], "rate_limit_override": null, "name": "ro"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json["data"]["permissions"], nlohmann::json({"read"}));
  EXPECT_EQ(Call("GET", keys, "", KeyHeader(key)).status, 403);  // cache forgotten
}

TEST_F(ApiKeyRoutesTest, RotateRevokesTheOldKeyAndReturnsANewOneOnce) {
  SeededUser u = SeedUser("owner4");
  auto [old_id, old_key] =
      CreateKey(u.token, u.org_id, {{"name", "svc"}, {"permissions", {"read", "write"}}});
  std::string org_path = "/api/v1/organizations/" + u.org_id;
  ASSERT_EQ(Call("GET", org_path, "", KeyHeader(old_key)).status, 200);
  ApiResponse rotated = CallUser(u.token, "POST", "/api/v1/api-keys/" + old_id + "/rotate");
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  std::string new_key = rotated.json["data"]["key"];
  std::string new_id = rotated.json["data"]["id"];
  EXPECT_NE(new_key, old_key);
  EXPECT_EQ(rotated.json["data"]["name"], "svc");
  EXPECT_EQ(rotated.json["data"]["permissions"], nlohmann::json({"read", "write"}));
  EXPECT_EQ(Call("GET", org_path, "", KeyHeader(old_key)).status, 401);
  EXPECT_EQ(Call("GET", org_path, "", KeyHeader(new_key)).status, 200);
  EXPECT_EQ(QueryValue("SELECT revocation_reason FROM api_keys WHERE id = '" + old_id + "'"),
            "rotated");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM api_key_audit_log WHERE api_key_id = '" + old_id +
                       "' AND event_type = 'rotated'"),
            "1");
  // A revoked key cannot be rotated again.
  EXPECT_EQ(CallUser(u.token, "POST", "/api/v1/api-keys/" + old_id + "/rotate").status, 409);
  // Revoking twice is a no-op with one audit row.
  EXPECT_EQ(CallUser(u.token, "DELETE", "/api/v1/api-keys/" + new_id).status, 204);
  EXPECT_EQ(CallUser(u.token, "DELETE", "/api/v1/api-keys/" + new_id).status, 204);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM api_key_audit_log WHERE api_key_id = '" + new_id +
                       "' AND event_type = 'revoked'"),
            "1");
}

TEST_F(ApiKeyRoutesTest, ExpiredKeyIsRejected) {
  SeededUser u = SeedUser("owner5");
  auto [id, key] = CreateKey(u.token, u.org_id, {{"name", "short-lived"}});
  Exec("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = '" + id + "'");
  ApiResponse r = Call("GET", "/api/v1/organizations/" + u.org_id, "", KeyHeader(key));
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST_F(ApiKeyRoutesTest, SecretsNeverReachTheLog) {
  RegisteredUser u = Register("quinn");
  ApiResponse login = Login("quinn", kGoodPassword);
  ASSERT_EQ(login.status, 200);
  Login("quinn", "Wrong-password-1!");  // failures are logged too
  ApiResponse refreshed = Refresh(login.json["refresh_token"]);
  ASSERT_EQ(refreshed.status, 200);
  Refresh(login.json["refresh_token"]);  // reuse: logged as a warning
  auto [id, key] = CreateKey(u.token, u.personal_org_id, {{"name", "k"}});
  Call("GET", "/api/v1/organizations/" + u.personal_org_id, "", KeyHeader(key));
  Call("GET", "/api/v1/organizations/" + u.personal_org_id, "",
       KeyHeader(key.substr(0, 20) + std::string(31, 'x')));
  CallUser(u.token, "POST", "/api/v1/api-keys/" + id + "/rotate");
  CallUser(u.token, "POST", "/api/v1/auth/logout",
           nlohmann::json{{"refresh_token", refreshed.json["refresh_token"]}}.dump());

  std::string log = log_.Text();
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.find("/api/v1/auth/login"), std::string::npos);  // the capture works
  const std::string secrets[] = {kGoodPassword,
                                 "Wrong-password-1!",
                                 u.token,
                                 u.refresh_token,
                                 login.json["token"],
                                 login.json["refresh_token"],
                                 refreshed.json["refresh_token"],
                                 key};
  for (const std::string& secret : secrets) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "secret found in log: " << secret;
  }
}

// Realistic Argon2 costs: the answer for an unknown prefix must take about as long as for a known
// prefix with the wrong key.
class ApiKeyTimingTest : public AccountsFixture {
 protected:
  ApiKeyTimingTest() { argon2_ = "interactive"; }

  double MedianMs(const std::string& key, const std::string& path, int n) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto start = std::chrono::steady_clock::now();
      ApiResponse r = Call("GET", path, "", KeyHeader(key));
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      EXPECT_EQ(r.status, 401) << r.body;
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
};

TEST_F(ApiKeyTimingTest, UnknownPrefixTakesAboutAsLongAsAWrongKey) {
  SeededUser u = SeedUser("timing");
  auto [id, key] = CreateKey(u.token, u.org_id, {{"name", "k"}});
  ASSERT_EQ(key.size(), 51u);
  std::string path = "/api/v1/organizations/" + u.org_id;
  std::string wrong_key = key.substr(0, 16) + std::string(35, 'Q');  // known prefix
  std::string unknown_prefix = "sk_live_ZZZZZZZZ" + std::string(35, 'Q');
  MedianMs(unknown_prefix, path, 1);  // the first dummy verify also builds the dummy hash
  double wrong = MedianMs(wrong_key, path, 7);
  double unknown = MedianMs(unknown_prefix, path, 7);
  std::printf("[ timing ] median wrong key %.1f ms, unknown prefix %.1f ms\n", wrong, unknown);
  EXPECT_GT(wrong, 5.0) << "interactive argon2 should cost milliseconds";
  EXPECT_LT(unknown, wrong * 3) << "unknown " << unknown << " ms vs wrong " << wrong << " ms";
  EXPECT_LT(wrong, unknown * 3) << "unknown " << unknown << " ms vs wrong " << wrong << " ms";
}

}  // namespace
}  // namespace auri::api::test
