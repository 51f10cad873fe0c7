// The trigger routes and GET /api/v1/events against the whole gateway and a real database
// (spec 10-api.md, "Triggers", "Events"): CRUD, nested atomic create, validation on write, tenant
// isolation, the role and API-key permission matrix, circuit breakers, dead letters, the event
// query and the trigger_changed notification.
#include <chrono>
#include <thread>

#include "auth/api_key.h"
#include "tests/integration/api/api_fixture.h"

namespace auri::api::test {
namespace {

using nlohmann::json;

constexpr const char* kWebhook =
    R"({"action_type": "webhook", "config": {"url": "https://hooks.example.com/a"}})";

class TriggerRoutesTest : public ApiFixture {
 protected:
  // A trigger of `user`'s organization (as its owner); returns its id.
  std::string CreateTrigger(const SeededUser& user, const std::string& body = "") {
    ApiResponse r = CallAs(user, "POST", "/api/v1/triggers",
                           body.empty() ? R"({"name": "t", "registry": "reputation"})" : body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json["data"]["id"].is_string() ? r.json["data"]["id"].get<std::string>() : "";
  }

  // An API key of `org_id` with `permissions` (a PostgreSQL array literal, e.g. "{read}").
  std::string SeedApiKey(const std::string& org_id, const std::string& permissions) {
    Result<NewApiKey> key = GenerateApiKey(ApiKeyEnvironment::kLive, Argon2Limits::Minimum());
    EXPECT_TRUE(key.ok());
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec_params(
        "INSERT INTO api_keys (organization_id, name, prefix, key_hash, environment, "
        "permissions) VALUES ($1, 'k', $2, $3, 'live', $4::text[])",
        org_id, key->prefix, key->hash, permissions);
    tx.commit();
    return key->key;
  }

  ApiResponse CallWithKey(const std::string& key, std::string_view method, std::string_view target,
                          std::string_view body = "") {
    return Call(method, target, body, "X-API-Key: " + key + "\r\n");
  }

  void Exec(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  }

  // The field names of a validation_error answer.
  static std::vector<std::string> ErrorFields(const ApiResponse& r) {
    std::vector<std::string> out;
    if (!r.json.is_object() || !r.json.contains("details")) return out;
    for (const auto& [field, message] : r.json["details"]["fields"].items()) out.push_back(field);
    return out;
  }
};

// ---- Triggers -----------------------------------------------------------------------------------

TEST_F(TriggerRoutesTest, NestedCreateReturnsTriggerConditionsAndActions) {
  SeededUser alice = SeedUser("alice");
  ApiResponse r = CallAs(alice, "POST", "/api/v1/triggers", R"({
    "name": "low scores", "description": "d", "chain_id": 11155111, "registry": "reputation",
    "is_stateful": true,
    "conditions": [
      {"condition_type": "agent_id_equals", "value": 42},
      {"condition_type": "ema_threshold", "operator": "<", "value": 50.5,
       "config": {"window_size": 5}}],
    "actions": [
      {"action_type": "telegram", "priority": 2,
       "config": {"chat_id": "-100", "message_template": "score {{score}}"}},
      {"action_type": "rest", "config": {"url": "https://h.example.com/{{agent_id}}"}}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  const json& d = r.json["data"];
  EXPECT_EQ(d["name"], "low scores");
  EXPECT_EQ(d["chain_id"], 11155111);
  EXPECT_EQ(d["organization_id"], alice.org_id);
  EXPECT_EQ(d["user_id"], alice.id);
  EXPECT_EQ(d["enabled"], true);
  ASSERT_EQ(d["conditions"].size(), 2u);
  EXPECT_EQ(d["conditions"][0]["condition_type"], "agent_id_equals");
  EXPECT_EQ(d["conditions"][0]["value"], "42");
  EXPECT_EQ(d["conditions"][1]["config"]["window_size"], 5);
  ASSERT_EQ(d["actions"].size(), 2u);
  EXPECT_EQ(d["actions"][0]["action_type"], "rest");  // priority 0 before 2; alias kept
  EXPECT_EQ(d["actions"][1]["priority"], 2);

  ApiResponse got = CallAs(alice, "GET", "/api/v1/triggers/" + d["id"].get<std::string>());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json["data"], d);
}

// GET /triggers/{id} reads the children in one statement and orders them itself; the order must
// be the list routes' (conditions by position, actions by priority, creation time, id) even when
// the rows' physical order differs (an updated row moves) and creation times tie (one transaction).
TEST_F(TriggerRoutesTest, GetOrdersChildrenAsTheListRoutesDo) {
  SeededUser alice = SeedUser("alice");
  ApiResponse r = CallAs(alice, "POST", "/api/v1/triggers", R"({
    "name": "order", "registry": "reputation",
    "conditions": [
      {"condition_type": "score_threshold", "operator": ">", "value": 1},
      {"condition_type": "score_threshold", "operator": ">", "value": 2},
      {"condition_type": "score_threshold", "operator": ">", "value": 3}],
    "actions": [
      {"action_type": "webhook", "priority": 1, "config": {"url": "https://e.com/1"}},
      {"action_type": "webhook", "priority": 1, "config": {"url": "https://e.com/2"}},
      {"action_type": "webhook", "priority": 0, "config": {"url": "https://e.com/3"}},
      {"action_type": "webhook", "priority": 1, "config": {"url": "https://e.com/4"}}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string t = "/api/v1/triggers/" + r.json["data"]["id"].get<std::string>();
  const std::string first = r.json["data"]["conditions"][0]["id"];
  ApiResponse updated =
      CallAs(alice, "PUT", t + "/conditions/" + first,
             R"({"condition_type": "score_threshold", "operator": ">", "value": 9})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  ApiResponse moved =
      CallAs(alice, "PUT", t + "/actions/" + r.json["data"]["actions"][1]["id"].get<std::string>(),
             R"({"action_type": "webhook", "priority": 1,
                                 "config": {"url": "https://e.com/2b"}})");
  ASSERT_EQ(moved.status, 200) << moved.body;

  ApiResponse got = CallAs(alice, "GET", t);
  ASSERT_EQ(got.status, 200) << got.body;
  ApiResponse conditions = CallAs(alice, "GET", t + "/conditions");
  ApiResponse actions = CallAs(alice, "GET", t + "/actions");
  ASSERT_EQ(conditions.status, 200) << conditions.body;
  ASSERT_EQ(actions.status, 200) << actions.body;
  EXPECT_EQ(got.json["data"]["conditions"], conditions.json["data"]);
  EXPECT_EQ(got.json["data"]["actions"], actions.json["data"]);
  EXPECT_EQ(got.json["data"]["conditions"][0]["value"], "9");
  EXPECT_EQ(got.json["data"]["actions"][0]["config"]["url"], "https://e.com/3");
}

TEST_F(TriggerRoutesTest, NestedCreateIsAllOrNothing) {
  SeededUser alice = SeedUser("alice");
  ApiResponse r = CallAs(alice, "POST", "/api/v1/triggers", R"({
    "name": "t", "registry": "reputation",
    "conditions": [{"condition_type": "score_threshold", "operator": ">", "value": 10}],
    "actions": [{"action_type": "webhook", "config": {"url": "https://e.com"}},
                {"action_type": "webhook", "config": {"url": "ftp://e.com"}}]})");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json["error"], "validation_error");
  EXPECT_EQ(ErrorFields(r), std::vector<std::string>{"actions[1].config.url"});
  EXPECT_EQ(QueryValue("SELECT count(*) FROM triggers"), "0");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM trigger_conditions"), "0");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM trigger_actions"), "0");
}

TEST_F(TriggerRoutesTest, NestedConditionsAreValidatedAgainstTheNewTrigger) {
  SeededUser alice = SeedUser("alice");
  ApiResponse r = CallAs(alice, "POST", "/api/v1/triggers", R"({
    "name": "t", "registry": "identity",
    "conditions": [{"condition_type": "rate_limit", "operator": ">", "value": 3,
                    "config": {"time_window": "5m"}},
                   {"condition_type": "event_type_equals", "value": "NewFeedback"},
                   "nope"]})");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorFields(r), (std::vector<std::string>{"conditions[0].condition_type",
                                                      "conditions[1].value", "conditions[2]"}));
  EXPECT_EQ(QueryValue("SELECT count(*) FROM triggers"), "0");
}

TEST_F(TriggerRoutesTest, BadTriggerBodiesAreValidationErrorsNamingTheField) {
  SeededUser alice = SeedUser("alice");
  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"({"registry": "identity"})", "name"},
      {R"({"name": "", "registry": "identity"})", "name"},
      {R"({"name": ")" + std::string(256, 'n') + R"(", "registry": "identity"})", "name"},
      {R"({"name": 5, "registry": "identity"})", "name"},
      {R"({"name": "a\u0000b", "registry": "identity"})", "name"},
      {R"({"name": "t"})", "registry"},
      {R"({"name": "t", "registry": "Identity"})", "registry"},
      {R"({"name": "t", "registry": "identity", "chain_id": "1"})", "chain_id"},
      {R"({"name": "t", "registry": "identity", "chain_id": 0})", "chain_id"},
      {R"({"name": "t", "registry": "identity", "chain_id": 1.5})", "chain_id"},
      {R"({"name": "t", "registry": "identity", "chain_id": 99999999999999999999999})", "chain_id"},
      {R"({"name": "t", "registry": "identity", "enabled": "yes"})", "enabled"},
      {R"({"name": "t", "registry": "identity", "is_stateful": 1})", "is_stateful"},
      {R"({"name": "t", "registry": "identity", "description": ")" + std::string(1001, 'd') +
           R"("})",
       "description"},
      {R"({"name": "t", "registry": "identity", "conditions": {}})", "conditions"},
      {R"({"name": "t", "registry": "identity", "actions": [{"action_type": "email",
          "config": {}}]})",
       "actions[0].action_type"},
      {R"({"name": "t", "registry": "identity", "actions": [{"action_type": "webhook",
          "priority": 1e30, "config": {"url": "https://e.com"}}]})",
       "actions[0].priority"},
      {R"([1, 2])", "body"},
  };
  for (const Case& c : cases) {
    ApiResponse r = CallAs(alice, "POST", "/api/v1/triggers", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(r.json["error"], "validation_error") << c.body;
    std::vector<std::string> fields = ErrorFields(r);
    EXPECT_NE(std::find(fields.begin(), fields.end(), c.field), fields.end())
        << c.body << " -> " << r.body;
  }
  EXPECT_EQ(QueryValue("SELECT count(*) FROM triggers"), "0");
}

TEST_F(TriggerRoutesTest, MalformedJsonInvalidUtf8AndWrongMediaTypeAreRefused) {
  SeededUser alice = SeedUser("alice");
  std::string auth =
      "Authorization: Bearer " + alice.token + "\r\nX-Organization-ID: " + alice.org_id + "\r\n";
  ApiResponse malformed = Call("POST", "/api/v1/triggers", R"({"name": )", auth);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.json["error"], "bad_request");
  ApiResponse utf8 = Call("POST", "/api/v1/triggers",
                          "{\"name\": \"\xff\xfe\", \"registry\": \"identity\"}", auth);
  EXPECT_EQ(utf8.status, 400) << utf8.body;
  ApiResponse media = Call("POST", "/api/v1/triggers", R"({"name": "t", "registry": "identity"})",
                           auth + "Content-Type: text/plain\r\n");
  EXPECT_EQ(media.status, 415);
  EXPECT_EQ(media.json["error"], "unsupported_media_type");
}

TEST_F(TriggerRoutesTest, EveryBodyRouteRefusesMalformedBodiesWithoutA500) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice, R"({"name": "t", "registry": "reputation",
    "conditions": [{"condition_type": "score_threshold", "operator": "<", "value": 5}],
    "actions": [)" + std::string(kWebhook) + "]}");
  ApiResponse got = CallAs(alice, "GET", "/api/v1/triggers/" + id);
  std::string t = "/api/v1/triggers/" + id;
  std::string cid = got.json["data"]["conditions"][0]["id"];
  std::string aid = got.json["data"]["actions"][0]["id"];
  std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/api/v1/triggers"},     {"PUT", t},
      {"POST", t + "/conditions"},      {"PUT", t + "/conditions/" + cid},
      {"POST", t + "/actions"},         {"PUT", t + "/actions/" + aid},
      {"PATCH", t + "/circuit-breaker"}};
  std::string auth =
      "Authorization: Bearer " + alice.token + "\r\nX-Organization-ID: " + alice.org_id + "\r\n";
  for (const auto& [method, path] : routes) {
    ApiResponse malformed = Call(method, path, R"({"name": )", auth);
    EXPECT_EQ(malformed.status, 400) << method << " " << path << " " << malformed.body;
    EXPECT_EQ(malformed.json["error"], "bad_request") << method << " " << path;
    ApiResponse utf8 = Call(method, path, "{\"name\": \"\xc3\x28\"}", auth);
    EXPECT_EQ(utf8.status, 400) << method << " " << path << " " << utf8.body;
    ApiResponse array = Call(method, path, "[]", auth);
    EXPECT_EQ(array.status, 400) << method << " " << path << " " << array.body;
    EXPECT_EQ(array.json["error"], "validation_error") << method << " " << path;
    ApiResponse empty = Call(method, path, "{}", auth);
    EXPECT_EQ(empty.status, method == "PATCH" ? 200 : 400)
        << method << " " << path << " " << empty.body;
    ApiResponse huge = Call(method, path,
                            R"({"name": 1e999999, "value": 18446744073709551616, "priority": )"
                            R"(-99999999999999999999, "failure_threshold": 1e308})",
                            auth);
    EXPECT_EQ(huge.status, 400) << method << " " << path << " " << huge.body;
    ApiResponse media = Call(method, path, "{}", auth + "Content-Type: text/plain\r\n");
    EXPECT_EQ(media.status, 415) << method << " " << path;
  }
  // Nothing changed.
  EXPECT_EQ(CallAs(alice, "GET", t).json["data"], got.json["data"]);
}

TEST_F(TriggerRoutesTest, TooManyNestedChildrenAreRefused) {
  SeededUser alice = SeedUser("alice");
  std::string conditions;
  for (int i = 0; i < 51; ++i) {
    conditions +=
        std::string(i ? "," : "") + R"({"condition_type": "agent_id_equals", "value": 1})";
  }
  ApiResponse r =
      CallAs(alice, "POST", "/api/v1/triggers",
             R"({"name": "t", "registry": "identity", "conditions": [)" + conditions + "]}");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorFields(r), std::vector<std::string>{"conditions"});
}

TEST_F(TriggerRoutesTest, ListIsNewestFirstPaginatedAndFiltered) {
  SeededUser alice = SeedUser("alice");
  for (int i = 0; i < 5; ++i) {
    CreateTrigger(alice, R"({"name": "t)" + std::to_string(i) + R"(", "registry": ")" +
                             (i % 2 ? "identity" : "reputation") + R"(", "chain_id": )" +
                             std::to_string(i < 3 ? 1 : 2) + R"(, "enabled": )" +
                             (i == 4 ? "false" : "true") + "}");
  }
  ApiResponse all = CallAs(alice, "GET", "/api/v1/triggers?limit=2&offset=1");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.json["pagination"],
            (json{{"total", 5}, {"limit", 2}, {"offset", 1}, {"has_more", true}}));
  ASSERT_EQ(all.json["data"].size(), 2u);
  EXPECT_EQ(all.json["data"][0]["name"], "t3");
  EXPECT_EQ(all.json["data"][1]["name"], "t2");

  auto names = [&](const std::string& query) {
    ApiResponse r = CallAs(alice, "GET", "/api/v1/triggers?" + query);
    EXPECT_EQ(r.status, 200) << query << " " << r.body;
    std::vector<std::string> out;
    for (const json& t : r.json["data"]) out.push_back(t["name"].get<std::string>());
    return out;
  };
  EXPECT_EQ(names("registry=identity"), (std::vector<std::string>{"t3", "t1"}));
  EXPECT_EQ(names("chain_id=2"), (std::vector<std::string>{"t4", "t3"}));
  EXPECT_EQ(names("enabled=false"), (std::vector<std::string>{"t4"}));
  EXPECT_EQ(names("enabled=true&registry=reputation&chain_id=1"),
            (std::vector<std::string>{"t2", "t0"}));

  for (const char* bad : {"enabled=1", "registry=x", "chain_id=-1", "chain_id=abc", "limit=0",
                          "limit=101", "offset=-1"}) {
    ApiResponse r = CallAs(alice, "GET", std::string("/api/v1/triggers?") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.json["error"], "validation_error") << bad;
  }
}

TEST_F(TriggerRoutesTest, PutReplacesTheDefinition) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(
      alice, R"({"name": "t", "registry": "identity", "chain_id": 5, "description": "x"})");
  ApiResponse r = CallAs(alice, "PUT", "/api/v1/triggers/" + id,
                         R"({"name": "renamed", "registry": "validation", "enabled": false})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["data"]["name"], "renamed");
  EXPECT_EQ(r.json["data"]["registry"], "validation");
  EXPECT_EQ(r.json["data"]["enabled"], false);
  EXPECT_TRUE(r.json["data"]["chain_id"].is_null());
  EXPECT_TRUE(r.json["data"]["description"].is_null());
  ApiResponse bad = CallAs(alice, "PUT", "/api/v1/triggers/" + id, R"({"name": ""})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorFields(bad), (std::vector<std::string>{"name", "registry"}));
}

TEST_F(TriggerRoutesTest, TurningStatefulOffWithStatefulConditionsIsAConflict) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice, R"({"name": "t", "registry": "reputation",
    "is_stateful": true, "conditions": [{"condition_type": "rate_limit", "operator": ">=",
    "value": 3, "config": {"time_window": "1h"}}]})");
  ApiResponse r = CallAs(alice, "PUT", "/api/v1/triggers/" + id,
                         R"({"name": "t", "registry": "reputation", "is_stateful": false})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.json["error"], "conflict");
  EXPECT_NE(r.json["message"].get<std::string>().find("stateful"), std::string::npos);
  EXPECT_EQ(QueryValue("SELECT is_stateful FROM triggers"), "t");
}

TEST_F(TriggerRoutesTest, DeleteRemovesTheTriggerAndItsChildren) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice, R"({"name": "t", "registry": "reputation",
    "conditions": [{"condition_type": "score_threshold", "operator": "<", "value": 5}],
    "actions": [)" + std::string(kWebhook) + "]}");
  ApiResponse r = CallAs(alice, "DELETE", "/api/v1/triggers/" + id);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(CallAs(alice, "GET", "/api/v1/triggers/" + id).status, 404);
  EXPECT_EQ(CallAs(alice, "DELETE", "/api/v1/triggers/" + id).status, 404);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM trigger_conditions"), "0");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM trigger_actions"), "0");
}

TEST_F(TriggerRoutesTest, IdsThatAreNotUuidsAreNotFound) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  for (const std::string& path :
       {std::string("/api/v1/triggers/nope"), std::string("/api/v1/triggers/1"),
        "/api/v1/triggers/" + id + "/conditions/x", "/api/v1/triggers/" + id + "/actions/x'--"}) {
    ApiResponse r = CallAs(alice,
                           path.find("/conditions/") != std::string::npos ||
                                   path.find("/actions/") != std::string::npos
                               ? "DELETE"
                               : "GET",
                           path);
    EXPECT_EQ(r.status, 404) << path << " " << r.body;
    EXPECT_EQ(r.json["error"], "not_found");
  }
  EXPECT_EQ(CallAs(alice, "GET", "/api/v1/triggers/00000000-0000-0000-0000-000000000000").status,
            404);
}

// ---- Conditions ---------------------------------------------------------------------------------

TEST_F(TriggerRoutesTest, ConditionCrudKeepsEvaluationOrder) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice, R"({"name": "t", "registry": "reputation",
                                            "is_stateful": true})");
  std::string base = "/api/v1/triggers/" + id + "/conditions";
  ApiResponse a = CallAs(alice, "POST", base, R"({"condition_type": "tag_equals",
                                                 "field": "tag1", "value": "fast"})");
  ASSERT_EQ(a.status, 201) << a.body;
  ApiResponse b = CallAs(alice, "POST", base, R"({"condition_type": "ema_threshold",
      "operator": ">", "value": 70, "config": {"window_size": 10}})");
  ASSERT_EQ(b.status, 201) << b.body;
  ApiResponse list = CallAs(alice, "GET", base);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json["data"].size(), 2u);
  EXPECT_EQ(list.json["data"][0]["condition_type"], "tag_equals");
  EXPECT_EQ(list.json["pagination"]["total"], 2);

  std::string bid = b.json["data"]["id"];
  Exec("INSERT INTO trigger_state (condition_id, trigger_id, state) VALUES ('" + bid + "', '" + id +
       "', '{\"ema\": 1}')");
  ApiResponse put = CallAs(alice, "PUT", base + "/" + bid, R"({"condition_type": "ema_threshold",
      "operator": "<", "value": 20, "config": {"window_size": 3}})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json["data"]["operator"], "<");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM trigger_state"), "0");  // old state cleared
  list = CallAs(alice, "GET", base);
  EXPECT_EQ(list.json["data"][1]["id"], bid);  // position kept

  EXPECT_EQ(CallAs(alice, "DELETE", base + "/" + bid).status, 204);
  EXPECT_EQ(CallAs(alice, "DELETE", base + "/" + bid).status, 404);
  EXPECT_EQ(CallAs(alice, "GET", base).json["pagination"]["total"], 1);
}

TEST_F(TriggerRoutesTest, ConditionsAreValidatedOnWrite) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);  // reputation, not stateful
  std::string base = "/api/v1/triggers/" + id + "/conditions";
  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"({"condition_type": "nope", "value": "1"})", "condition_type"},
      {R"({"value": "1"})", "condition_type"},
      {R"({"condition_type": "score_threshold", "operator": "~", "value": 5})", "operator"},
      {R"({"condition_type": "score_threshold", "value": 5})", "operator"},
      {R"({"condition_type": "score_threshold", "operator": ">", "value": "high"})", "value"},
      {R"({"condition_type": "score_threshold", "operator": ">", "value": true})", "value"},
      {R"({"condition_type": "score_threshold", "operator": ">", "value": [1]})", "value"},
      {R"({"condition_type": "score_threshold", "operator": ">"})", "value"},
      {R"({"condition_type": "agent_id_equals", "value": -1})", "value"},
      {R"({"condition_type": "agent_id_equals", "value": 1, "config": {"x": 1}})", "config"},
      {R"({"condition_type": "agent_id_equals", "value": 1, "config": []})", "config"},
      {R"({"condition_type": "tag_equals", "field": "tag3", "value": "x"})", "field"},
      {R"({"condition_type": "event_type_equals", "value": "Registered"})", "value"},
      {R"({"condition_type": "ema_threshold", "operator": "<", "value": 5,
           "config": {"window_size": 3}})",
       "condition_type"},
      {R"({"condition_type": "field_compare", "field": "tag1", "operator": "contains",
           "value": ")" +
           std::string(10001, 'v') + R"("})",
       "value"},
  };
  for (const Case& c : cases) {
    ApiResponse r = CallAs(alice, "POST", base, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    std::vector<std::string> fields = ErrorFields(r);
    EXPECT_NE(std::find(fields.begin(), fields.end(), c.field), fields.end())
        << c.body << " -> " << r.body;
  }
  EXPECT_EQ(QueryValue("SELECT count(*) FROM trigger_conditions"), "0");

  // Stateful config errors are reported per parameter on a stateful trigger.
  std::string sid = CreateTrigger(alice, R"({"name": "s", "registry": "reputation",
                                             "is_stateful": true})");
  ApiResponse r = CallAs(alice, "POST", "/api/v1/triggers/" + sid + "/conditions",
                         R"({"condition_type": "rate_limit", "operator": ">", "value": 2,
                             "config": {"time_window": "5x", "reset_on_trigger": "no"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorFields(r),
            (std::vector<std::string>{"config.reset_on_trigger", "config.time_window"}));
}

// ---- Actions ------------------------------------------------------------------------------------

TEST_F(TriggerRoutesTest, ActionCrudAndConfigValidation) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  std::string base = "/api/v1/triggers/" + id + "/actions";
  ApiResponse a = CallAs(alice, "POST", base, R"({"action_type": "webhook", "priority": 5,
      "config": {"url": "https://e.com/{{agent_id}}", "method": "PUT",
                 "headers": {"Authorization": "Bearer x"}, "timeout_seconds": 30,
                 "expected_status_codes": [200], "body": {"a": "{{score}}"}}})");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(a.json["data"]["config"]["method"], "PUT");
  ApiResponse b = CallAs(alice, "POST", base, R"({"action_type": "telegram",
      "config": {"chat_id": "42", "message_template": "*{{event_type}}*"}})");
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_EQ(b.json["data"]["priority"], 0);

  ApiResponse list = CallAs(alice, "GET", base);
  ASSERT_EQ(list.json["data"].size(), 2u);
  EXPECT_EQ(list.json["data"][0]["action_type"], "telegram");  // priority 0 first

  std::string aid = a.json["data"]["id"];
  ApiResponse put = CallAs(alice, "PUT", base + "/" + aid, R"({"action_type": "rest",
      "priority": -1, "config": {"url": "http://e.com"}})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json["data"]["action_type"], "rest");

  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"({"config": {"url": "https://e.com"}})", "action_type"},
      {R"({"action_type": "webhook"})", "config"},
      {R"({"action_type": "webhook", "config": "https://e.com"})", "config"},
      {R"({"action_type": "webhook", "config": {"url": "https://e.com/{{nope}}"}})", "config.url"},
      {R"({"action_type": "webhook", "config": {"url": "https://e.com",
           "headers": {"Host": "evil"}}})",
       "config.headers.Host"},
      {R"({"action_type": "webhook", "config": {"url": "https://e.com",
           "headers": {"X-A": "a\r\nB: c"}}})",
       "config.headers.X-A"},
      {R"({"action_type": "webhook", "config": {"url": "https://e.com", "timeout_seconds": 600}})",
       "config.timeout_seconds"},
      {R"({"action_type": "webhook", "config": {"url": "https://e.com",
           "expected_status_codes": [1000]}})",
       "config.expected_status_codes[0]"},
      {R"({"action_type": "telegram", "config": {"chat_id": 5, "message_template": "m"}})",
       "config.chat_id"},
      {R"({"action_type": "telegram", "config": {"chat_id": "5",
           "message_template": "{{bogus}}"}})",
       "config.message_template"},
      {R"({"action_type": "webhook", "priority": "high", "config": {"url": "https://e.com"}})",
       "priority"},
  };
  for (const Case& c : cases) {
    ApiResponse r = CallAs(alice, "POST", base, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    std::vector<std::string> fields = ErrorFields(r);
    EXPECT_NE(std::find(fields.begin(), fields.end(), c.field), fields.end())
        << c.body << " -> " << r.body;
  }
  EXPECT_EQ(CallAs(alice, "DELETE", base + "/" + aid).status, 204);
  EXPECT_EQ(CallAs(alice, "PUT", base + "/" + aid, kWebhook).status, 404);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM trigger_actions"), "1");
}

// ---- Circuit breaker ----------------------------------------------------------------------------

TEST_F(TriggerRoutesTest, CircuitBreakerShowsPatchesAndResets) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  std::string base = "/api/v1/triggers/" + id + "/circuit-breaker";
  ApiResponse r = CallAs(alice, "GET", base);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["data"], (json{{"trigger_id", id},
                                  {"state", "Closed"},
                                  {"failure_count", 0},
                                  {"last_failure_time", nullptr},
                                  {"opened_at", nullptr},
                                  {"half_open_calls", 0},
                                  {"config",
                                   {{"failure_threshold", 10},
                                    {"recovery_timeout_seconds", 3600},
                                    {"half_open_max_calls", 1}}}}));

  ApiResponse p = CallAs(alice, "PATCH", base, R"({"config": {"failure_threshold": 3}})");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.json["data"]["config"]["failure_threshold"], 3);
  EXPECT_EQ(p.json["data"]["config"]["recovery_timeout_seconds"], 3600);
  p = CallAs(alice, "PATCH", base, R"({"half_open_max_calls": 10})");
  EXPECT_EQ(p.json["data"]["config"]["half_open_max_calls"], 10);
  EXPECT_EQ(p.json["data"]["config"]["failure_threshold"], 3);

  for (const char* bad :
       {R"({"config": {"failure_threshold": 0}})", R"({"failure_threshold": 1001})",
        R"({"recovery_timeout_seconds": 59})", R"({"recovery_timeout_seconds": 604801})",
        R"({"half_open_max_calls": 11})", R"({"half_open_max_calls": "1"})", R"({"config": 5})"}) {
    ApiResponse b = CallAs(alice, "PATCH", base, bad);
    EXPECT_EQ(b.status, 400) << bad << " -> " << b.body;
    EXPECT_EQ(b.json["error"], "validation_error") << bad;
  }

  Exec(
      "UPDATE triggers SET cb_state = 'Open', cb_failure_count = 3, cb_opened_at = now(), "
      "cb_last_failure_time = now()");
  r = CallAs(alice, "GET", base);
  EXPECT_EQ(r.json["data"]["state"], "Open");
  EXPECT_TRUE(r.json["data"]["opened_at"].is_string());
  ApiResponse reset = CallAs(alice, "POST", base + "/reset");
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(reset.json["data"]["state"], "Closed");
  EXPECT_EQ(reset.json["data"]["failure_count"], 0);
  EXPECT_TRUE(reset.json["data"]["opened_at"].is_null());
  EXPECT_EQ(reset.json["data"]["config"]["failure_threshold"], 3);  // config kept
}

// ---- Results and dead letters -------------------------------------------------------------------

TEST_F(TriggerRoutesTest, ResultsAndDeadLettersAreListedAndReplayable) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  ApiResponse empty = CallAs(alice, "GET", "/api/v1/triggers/" + id + "/results");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(empty.json["data"], json::array());
  EXPECT_EQ(empty.json["pagination"]["total"], 0);

  Exec(
      "INSERT INTO action_jobs (id, trigger_id, event_id, action_type, config, event_data, "
      "status, attempts, last_error, last_status_code) VALUES "
      "('11111111-1111-1111-1111-111111111111', '" +
      id +
      "', 'e1', 'webhook', '{}', '{}', "
      "'dead', 5, 'http 500', 500), "
      "('22222222-2222-2222-2222-222222222222', '" +
      id +
      "', 'e2', 'webhook', '{}', '{}', "
      "'succeeded', 1, NULL, 200)");
  Exec(
      "INSERT INTO action_results (job_id, trigger_id, event_id, action_type, status, attempts, "
      "status_code, created_at) VALUES "
      "('11111111-1111-1111-1111-111111111111', '" +
      id +
      "', 'e1', 'webhook', 'failed', 5, "
      "500, now() - interval '1 minute'), "
      "('22222222-2222-2222-2222-222222222222', '" +
      id +
      "', 'e2', 'webhook', 'success', 1, "
      "200, now())");
  ApiResponse results = CallAs(alice, "GET", "/api/v1/triggers/" + id + "/results");
  ASSERT_EQ(results.json["data"].size(), 2u);
  EXPECT_EQ(results.json["data"][0]["event_id"], "e2");  // newest first
  EXPECT_EQ(results.json["data"][1]["status"], "failed");

  ApiResponse dead = CallAs(alice, "GET", "/api/v1/triggers/" + id + "/dead-letters");
  ASSERT_EQ(dead.status, 200) << dead.body;
  ASSERT_EQ(dead.json["data"].size(), 1u);
  EXPECT_EQ(dead.json["data"][0]["last_error"], "http 500");

  std::string replay = "/api/v1/triggers/" + id + "/dead-letters/";
  ApiResponse r = CallAs(alice, "POST", replay + "11111111-1111-1111-1111-111111111111/replay");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["data"]["status"], "pending");
  EXPECT_EQ(r.json["data"]["attempts"], 0);
  EXPECT_EQ(QueryValue("SELECT status || attempts FROM action_jobs WHERE event_id = 'e1'"),
            "pending0");
  ApiResponse again = CallAs(alice, "POST", replay + "11111111-1111-1111-1111-111111111111/replay");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(CallAs(alice, "POST", replay + "22222222-2222-2222-2222-222222222222/replay").status,
            409);
  EXPECT_EQ(CallAs(alice, "POST", replay + "33333333-3333-3333-3333-333333333333/replay").status,
            404);
  EXPECT_EQ(
      CallAs(alice, "GET", "/api/v1/triggers/" + id + "/dead-letters").json["pagination"]["total"],
      0);
}

// ---- Tenancy and access -------------------------------------------------------------------------

TEST_F(TriggerRoutesTest, AnotherOrganizationsTriggerIsNotFoundOnEveryRoute) {
  SeededUser alice = SeedUser("alice");
  SeededUser bob = SeedUser("bob");
  std::string id = CreateTrigger(alice, R"({"name": "t", "registry": "reputation",
    "conditions": [{"condition_type": "score_threshold", "operator": "<", "value": 5}],
    "actions": [)" + std::string(kWebhook) + "]}");
  ApiResponse got = CallAs(alice, "GET", "/api/v1/triggers/" + id);
  std::string cid = got.json["data"]["conditions"][0]["id"];
  std::string aid = got.json["data"]["actions"][0]["id"];
  Exec(
      "INSERT INTO action_jobs (id, trigger_id, event_id, action_type, config, event_data, "
      "status) VALUES ('11111111-1111-1111-1111-111111111111', '" +
      id + "', 'e1', 'webhook', '{}', '{}', 'dead')");
  std::string t = "/api/v1/triggers/" + id;
  std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", t},
      {"PUT", t},
      {"DELETE", t},
      {"GET", t + "/conditions"},
      {"POST", t + "/conditions"},
      {"PUT", t + "/conditions/" + cid},
      {"DELETE", t + "/conditions/" + cid},
      {"GET", t + "/actions"},
      {"POST", t + "/actions"},
      {"PUT", t + "/actions/" + aid},
      {"DELETE", t + "/actions/" + aid},
      {"GET", t + "/circuit-breaker"},
      {"PATCH", t + "/circuit-breaker"},
      {"POST", t + "/circuit-breaker/reset"},
      {"GET", t + "/results"},
      {"GET", t + "/dead-letters"},
      {"POST", t + "/dead-letters/11111111-1111-1111-1111-111111111111/replay"},
  };
  std::string bob_key = SeedApiKey(bob.org_id, "{admin}");
  for (const auto& [method, path] : routes) {
    std::string body;
    if (path.find("/conditions") != std::string::npos && method != "GET" && method != "DELETE") {
      body = R"({"condition_type": "score_threshold", "operator": ">", "value": 1})";
    } else if (path.find("/actions") != std::string::npos && method != "GET" &&
               method != "DELETE") {
      body = kWebhook;
    } else if (method == "PUT") {
      body = R"({"name": "stolen", "registry": "identity"})";
    } else if (method == "PATCH") {
      body = R"({"failure_threshold": 1})";
    }
    ApiResponse r = CallAs(bob, method, path, body);  // bob acting in his own organization
    EXPECT_EQ(r.status, 404) << method << " " << path << " " << r.body;
    EXPECT_EQ(r.json["error"], "not_found") << method << " " << path;
    ApiResponse k = CallWithKey(bob_key, method, path, body);
    EXPECT_EQ(k.status, 404) << "key " << method << " " << path << " " << k.body;
    // Naming alice's organization does not help: bob is not a member.
    ApiResponse h = CallAs(bob, method, path, body, alice.org_id);
    EXPECT_EQ(h.status, 403) << method << " " << path << " " << h.body;
  }
  // Nothing of alice's changed.
  ApiResponse after = CallAs(alice, "GET", t);
  EXPECT_EQ(after.json["data"], got.json["data"]);
  EXPECT_EQ(QueryValue("SELECT status FROM action_jobs"), "dead");
  EXPECT_EQ(CallAs(bob, "GET", "/api/v1/triggers").json["pagination"]["total"], 0);
}

// The gateway caches membership roles for api.member_role_cache_ms (1 s); a change made through
// the API must still apply to the very next request (the member handlers forget the organization).
TEST_F(TriggerRoutesTest, RoleChangesThroughTheApiApplyAtOnceDespiteTheRoleCache) {
  SeededUser alice = SeedUser("alice");
  SeededUser bob = SeedUser("bob");
  SeedMember(alice.org_id, bob.id, "member");
  std::string t = "/api/v1/triggers/" + CreateTrigger(alice);
  const std::string members = "/api/v1/organizations/" + alice.org_id + "/members/" + bob.id;

  ASSERT_EQ(CallAs(bob, "GET", t, "", alice.org_id).status, 200);  // bob's role is cached now
  ApiResponse demoted = CallAs(alice, "PUT", members, R"({"role": "viewer"})");
  ASSERT_EQ(demoted.status, 200) << demoted.body;
  ApiResponse write =
      CallAs(bob, "PUT", t, R"({"name": "b", "registry": "identity"})", alice.org_id);
  EXPECT_EQ(write.status, 403) << write.body;
  EXPECT_EQ(CallAs(bob, "GET", t, "", alice.org_id).status, 200);  // viewers still read

  ASSERT_EQ(CallAs(alice, "DELETE", members).status, 204);
  ApiResponse read = CallAs(bob, "GET", t, "", alice.org_id);
  EXPECT_EQ(read.status, 403) << read.body;
  EXPECT_EQ(read.json["message"], "you are not a member of this organization");
}

// A change made elsewhere (SQL, another gateway replica) is seen once the cached role expires:
// within api.member_role_cache_ms, not at once (docs/decisions.md).
TEST_F(TriggerRoutesTest, RoleRemovedOutsideTheGatewayStopsWorkingWithinTheCacheTtl) {
  SeededUser alice = SeedUser("alice");
  SeededUser bob = SeedUser("bob");
  SeedMember(alice.org_id, bob.id, "viewer");
  std::string t = "/api/v1/triggers/" + CreateTrigger(alice);
  ASSERT_EQ(CallAs(bob, "GET", t, "", alice.org_id).status, 200);
  {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec_params("DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2",
                   alice.org_id, bob.id);
    tx.commit();
  }
  auto removed_at = std::chrono::steady_clock::now();
  int status = 0;
  // Bounded: the ttl plus a generous margin for a loaded machine.
  while (std::chrono::steady_clock::now() - removed_at < std::chrono::seconds(5)) {
    status = CallAs(bob, "GET", t, "", alice.org_id).status;
    if (status == 403) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 403);
  EXPECT_LT(std::chrono::steady_clock::now() - removed_at, std::chrono::milliseconds(2500));
}

TEST_F(TriggerRoutesTest, ViewersReadButCannotWriteMembersCan) {
  SeededUser alice = SeedUser("alice");
  SeededUser viewer = SeedUser("viewer");
  SeededUser member = SeedUser("member");
  SeedMember(alice.org_id, viewer.id, "viewer");
  SeedMember(alice.org_id, member.id, "member");
  std::string id = CreateTrigger(alice);
  std::string t = "/api/v1/triggers/" + id;
  struct Write {
    std::string method, path, body;
  };
  std::vector<Write> writes = {
      {"POST", "/api/v1/triggers", R"({"name": "v", "registry": "identity"})"},
      {"PUT", t, R"({"name": "v", "registry": "identity"})"},
      {"POST", t + "/conditions", R"({"condition_type": "agent_id_equals", "value": 1})"},
      {"POST", t + "/actions", kWebhook},
      {"PATCH", t + "/circuit-breaker", R"({"failure_threshold": 2})"},
      {"POST", t + "/circuit-breaker/reset", ""},
  };
  for (const Write& w : writes) {
    ApiResponse r = CallAs(viewer, w.method, w.path, w.body, alice.org_id);
    EXPECT_EQ(r.status, 403) << w.method << " " << w.path << " " << r.body;
    EXPECT_EQ(r.json["error"], "forbidden");
  }
  EXPECT_EQ(CallAs(viewer, "DELETE", t, "", alice.org_id).status, 403);
  EXPECT_EQ(CallAs(viewer, "GET", t, "", alice.org_id).status, 200);
  EXPECT_EQ(CallAs(viewer, "GET", "/api/v1/triggers", "", alice.org_id).status, 200);
  EXPECT_EQ(CallAs(viewer, "GET", t + "/circuit-breaker", "", alice.org_id).status, 200);

  for (const Write& w : writes) {
    ApiResponse r = CallAs(member, w.method, w.path, w.body, alice.org_id);
    EXPECT_LT(r.status, 300) << w.method << " " << w.path << " " << r.body;
  }
  ApiResponse created = CallAs(member, "POST", "/api/v1/triggers",
                               R"({"name": "m", "registry": "identity"})", alice.org_id);
  EXPECT_EQ(created.json["data"]["user_id"], member.id);
  EXPECT_EQ(CallAs(member, "DELETE", t, "", alice.org_id).status, 204);
}

TEST_F(TriggerRoutesTest, ApiKeyPermissionsAreEnforced) {
  SeededUser alice = SeedUser("alice");
  std::string id = CreateTrigger(alice);
  std::string t = "/api/v1/triggers/" + id;
  std::string read = SeedApiKey(alice.org_id, "{read}");
  std::string write = SeedApiKey(alice.org_id, "{write}");
  std::string del = SeedApiKey(alice.org_id, "{delete}");

  EXPECT_EQ(CallWithKey(read, "GET", t).status, 200);
  EXPECT_EQ(CallWithKey(read, "GET", "/api/v1/events").status, 200);
  ApiResponse r =
      CallWithKey(read, "POST", "/api/v1/triggers", R"({"name": "k", "registry": "identity"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.json["message"].get<std::string>().find("'write'"), std::string::npos);
  EXPECT_EQ(CallWithKey(read, "DELETE", t).status, 403);

  EXPECT_EQ(CallWithKey(write, "GET", t).status, 403);
  ApiResponse created =
      CallWithKey(write, "POST", "/api/v1/triggers", R"({"name": "k", "registry": "identity"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_TRUE(created.json["data"]["user_id"].is_null());
  EXPECT_EQ(created.json["data"]["organization_id"], alice.org_id);
  EXPECT_EQ(CallWithKey(write, "POST", t + "/circuit-breaker/reset").status, 200);
  EXPECT_EQ(CallWithKey(write, "DELETE", t).status, 403);

  EXPECT_EQ(CallWithKey(del, "PUT", t, R"({"name": "x", "registry": "identity"})").status, 403);
  EXPECT_EQ(CallWithKey(del, "DELETE", t).status, 204);
}

TEST_F(TriggerRoutesTest, RoutesNeedCredentialsAndAnOrganization) {
  SeededUser alice = SeedUser("alice");
  EXPECT_EQ(Call("GET", "/api/v1/triggers").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/events").status, 401);
  ApiResponse r =
      Call("GET", "/api/v1/triggers", "", "Authorization: Bearer " + alice.token + "\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json["error"], "missing_organization");
}

TEST_F(TriggerRoutesTest, EveryTriggerRouteIsAuthenticatedRateLimitedAndDescribed) {
  int count = 0;
  for (const Route& route : routes_) {
    if (route.pattern.rfind("/api/v1/triggers", 0) != 0 &&
        !(route.pattern == "/api/v1/events" && route.method == "GET")) {
      continue;
    }
    ++count;
    EXPECT_TRUE(route.authenticated) << route.method << " " << route.pattern;
    EXPECT_TRUE(route.rate_limited) << route.method << " " << route.pattern;
    EXPECT_FALSE(route.description.empty()) << route.method << " " << route.pattern;
  }
  EXPECT_EQ(count, 20);
}

// ---- Events -------------------------------------------------------------------------------------

class EventQueryTest : public TriggerRoutesTest {
 protected:
  // Ingests an identity Registered event.
  void Ingest(int64_t chain_id, int64_t agent_id, int64_t timestamp, int log_index,
              const std::string& registry = "identity") {
    json e = {{"chain_id", chain_id},
              {"block_number", 100 + log_index},
              {"block_hash", nullptr},
              {"transaction_hash", "0x" + std::string(63, 'a') + std::to_string(log_index % 10)},
              {"log_index", log_index},
              {"registry", registry},
              {"agent_id", agent_id},
              {"timestamp", timestamp}};
    if (registry == "identity") {
      e["event_type"] = "Registered";
      e["owner"] = "0x" + std::string(40, 'b');
      e["token_uri"] = "ipfs://x";
    } else {
      e["event_type"] = "FeedbackRevoked";
      e["client_address"] = "0x" + std::string(40, 'c');
      e["feedback_index"] = 1;
    }
    ApiResponse r =
        Call("POST", "/api/v1/events", e.dump(), "Authorization: Bearer " + ingest_token_ + "\r\n");
    ASSERT_EQ(r.status, 202) << r.body;
  }

  std::vector<int64_t> Agents(const SeededUser& user, const std::string& query) {
    ApiResponse r = CallAs(user, "GET", "/api/v1/events?" + query);
    EXPECT_EQ(r.status, 200) << query << " " << r.body;
    std::vector<int64_t> out;
    for (const json& e : r.json["data"]) out.push_back(e["agent_id"].get<int64_t>());
    return out;
  }
};

TEST_F(EventQueryTest, FiltersAndPaginatesNewestFirst) {
  SeededUser alice = SeedUser("alice");
  const int64_t t0 = 1767225600;  // 2026-01-01T00:00:00Z
  Ingest(1, 10, t0, 1);
  Ingest(1, 11, t0 + 3600, 2);
  Ingest(2, 12, t0 + 7200, 3);
  Ingest(2, 13, t0 + 10800, 4, "reputation");

  ApiResponse all = CallAs(alice, "GET", "/api/v1/events?limit=3");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.json["pagination"],
            (json{{"total", 4}, {"limit", 3}, {"offset", 0}, {"has_more", true}}));
  EXPECT_EQ(all.json["data"][0]["agent_id"], 13);
  EXPECT_EQ(all.json["data"][0]["event_type"], "FeedbackRevoked");
  EXPECT_EQ(all.json["data"][1]["owner"], "0x" + std::string(40, 'b'));
  EXPECT_FALSE(all.json["data"][0].contains("block_time"));
  EXPECT_TRUE(all.json["data"][0]["ingested_at"].is_string());

  EXPECT_EQ(Agents(alice, "offset=3"), (std::vector<int64_t>{10}));
  EXPECT_EQ(Agents(alice, "chain_id=1"), (std::vector<int64_t>{11, 10}));
  EXPECT_EQ(Agents(alice, "registry=reputation"), (std::vector<int64_t>{13}));
  EXPECT_EQ(Agents(alice, "event_type=Registered&chain_id=2"), (std::vector<int64_t>{12}));
  EXPECT_EQ(Agents(alice, "agent_id=11"), (std::vector<int64_t>{11}));
  EXPECT_EQ(Agents(alice, "since=2026-01-01T01:00:00Z"), (std::vector<int64_t>{13, 12, 11}));
  EXPECT_EQ(Agents(alice, "until=2026-01-01T02:00:00Z"), (std::vector<int64_t>{11, 10}));
  EXPECT_EQ(Agents(alice, "since=2026-01-01T02:00:00%2B01:00&until=2026-01-01T03:00:00Z"),
            (std::vector<int64_t>{12, 11}));
  EXPECT_EQ(Agents(alice, "agent_id=999"), (std::vector<int64_t>{}));
}

TEST_F(EventQueryTest, BadFiltersAreValidationErrors) {
  SeededUser alice = SeedUser("alice");
  for (const char* bad :
       {"chain_id=0", "chain_id=x", "agent_id=-1", "agent_id=99999999999999999999", "registry=nope",
        "event_type=Bogus", "since=yesterday", "until=2026-02-30T00:00:00Z",
        "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "limit=500"}) {
    ApiResponse r = CallAs(alice, "GET", std::string("/api/v1/events?") + bad);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
    EXPECT_EQ(r.json["error"], "validation_error") << bad;
  }
}

TEST_F(EventQueryTest, AnyMemberOfAnyOrganizationSeesTheSameEvents) {
  SeededUser alice = SeedUser("alice");
  SeededUser bob = SeedUser("bob");
  Ingest(1, 10, 1767225600, 1);
  EXPECT_EQ(Agents(alice, ""), (std::vector<int64_t>{10}));
  EXPECT_EQ(Agents(bob, ""), (std::vector<int64_t>{10}));
}

// ---- Notifications ------------------------------------------------------------------------------

class PayloadCollector : public pqxx::notification_receiver {
 public:
  PayloadCollector(pqxx::connection_base& c, std::vector<std::string>* out)
      : pqxx::notification_receiver(c, "trigger_changed"), out_(out) {}
  void operator()(const std::string& payload, int) override { out_->push_back(payload); }

 private:
  std::vector<std::string>* out_;
};

TEST_F(TriggerRoutesTest, ChangesNotifyTriggerChanged) {
  SeededUser alice = SeedUser("alice");
  pqxx::connection listener(dsn_);
  std::vector<std::string> payloads;
  PayloadCollector collector(listener, &payloads);
  listener.get_notifs();  // issues LISTEN

  // Waits (bounded) until `n` notifications arrived.
  auto await = [&](size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (payloads.size() < n && std::chrono::steady_clock::now() < deadline) {
      listener.await_notification(0, 100000);
    }
    return payloads.size() >= n;
  };

  std::string id = CreateTrigger(alice);
  ASSERT_TRUE(await(1));
  json first = json::parse(payloads[0]);
  EXPECT_EQ(first, (json{{"table", "triggers"}, {"op", "insert"}, {"trigger_id", id}}));

  ApiResponse c = CallAs(alice, "POST", "/api/v1/triggers/" + id + "/conditions",
                         R"({"condition_type": "agent_id_equals", "value": 3})");
  ASSERT_EQ(c.status, 201);
  ASSERT_TRUE(await(2));
  EXPECT_EQ(json::parse(payloads[1])["table"], "trigger_conditions");

  // A breaker config change is a definition change; a reset of runtime state is not.
  ASSERT_EQ(CallAs(alice, "PATCH", "/api/v1/triggers/" + id + "/circuit-breaker",
                   R"({"failure_threshold": 4})")
                .status,
            200);
  ASSERT_TRUE(await(3));
  EXPECT_EQ(json::parse(payloads[2])["op"], "update");

  ASSERT_EQ(CallAs(alice, "DELETE", "/api/v1/triggers/" + id).status, 204);
  // The delete notifies for the trigger (and for its cascaded condition, in either order).
  auto saw_trigger_delete = [&] {
    for (const std::string& p : payloads) {
      json j = json::parse(p);
      if (j["table"] == "triggers" && j["op"] == "delete" && j["trigger_id"] == id) return true;
    }
    return false;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!saw_trigger_delete() && std::chrono::steady_clock::now() < deadline) {
    listener.await_notification(0, 100000);
  }
  EXPECT_TRUE(saw_trigger_delete());
}

}  // namespace
}  // namespace auri::api::test
