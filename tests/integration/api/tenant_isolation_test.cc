// Tenant isolation over the whole route table: for every authenticated route, a caller from
// another organization — with a user token and with an admin API key — gets 403/404 (or an
// empty/own-data answer on list routes) and never sees another tenant's data. The route list comes
// from BaseRoutes, so a route added later is covered without touching this file.
#include <set>

#include "tests/integration/api/api_fixture.h"

namespace auri::api::test {
namespace {

// Org A's resources, seeded with SQL, with names that must never appear in B's answers.
struct TenantA {
  SeededUser owner;
  std::string member_id;
  std::string trigger_id, condition_id, action_id, key_id, job_id;
  std::vector<std::string> secrets;  // strings that identify A's data
};

class TenantIsolationTest : public ApiFixture {
 protected:
  TenantA SeedTenantA() {
    TenantA a;
    a.owner = SeedUser("alice_tenant_a");
    SeededUser carol = SeedUser("carol_tenant_a");
    SeedMember(a.owner.org_id, carol.id, "member");
    a.member_id = carol.id;
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    a.trigger_id = tx.exec_params1(
                         "INSERT INTO triggers (organization_id, user_id, name, "
                         "description, registry) VALUES ($1, $2, 'secret-trigger-A', "
                         "'secret-description-A', 'reputation') RETURNING id::text",
                         a.owner.org_id, a.owner.id)[0]
                       .as<std::string>();
    a.condition_id = tx.exec_params1(
                           "INSERT INTO trigger_conditions (trigger_id, condition_type, operator, "
                           "value) VALUES ($1, 'score_threshold', '<', '42') RETURNING id::text",
                           a.trigger_id)[0]
                         .as<std::string>();
    a.action_id = tx.exec_params1(
                        "INSERT INTO trigger_actions (trigger_id, action_type, config) VALUES ($1, "
                        "'webhook', '{\"url\": \"https://secret-hook-a.example/x\"}') "
                        "RETURNING id::text",
                        a.trigger_id)[0]
                      .as<std::string>();
    a.key_id = tx.exec_params1(
                     "INSERT INTO api_keys (organization_id, name, prefix, key_hash, "
                     "environment) VALUES ($1, 'secret-key-A', 'sk_test_AAAAAAAA', "
                     "'x', 'test') RETURNING id::text",
                     a.owner.org_id)[0]
                   .as<std::string>();
    a.job_id = tx.exec_params1(
                     "INSERT INTO action_jobs (trigger_id, action_id, event_id, "
                     "action_type, config, event_data, status) VALUES ($1, $2, "
                     "'evt-secret-A', 'webhook', '{}', '{}', 'dead') RETURNING id::text",
                     a.trigger_id, a.action_id)[0]
                   .as<std::string>();
    tx.exec_params(
        "INSERT INTO action_results (job_id, trigger_id, event_id, action_type, "
        "status, attempts) VALUES ($1, $2, 'evt-secret-A', 'webhook', 'failed', 1)",
        a.job_id, a.trigger_id);
    tx.commit();
    a.secrets = {a.owner.org_id,  a.trigger_id,   a.condition_id,     a.action_id,
                 a.key_id,        a.job_id,       "secret-trigger-A", "secret-description-A",
                 "secret-hook-a", "secret-key-A", "carol_tenant_a",   "alice_tenant_a"};
    return a;
  }

  // The route's pattern with A's ids filled in: the segment before a {param} says what it is.
  static std::string FillPath(const std::string& pattern, const TenantA& a) {
    std::string out;
    std::string previous;
    size_t i = 0;
    while (i < pattern.size()) {
      if (pattern[i] == '/') {
        out += '/';
        ++i;
        continue;
      }
      size_t end = pattern.find('/', i);
      std::string segment = pattern.substr(i, end == std::string::npos ? end : end - i);
      if (segment.front() == '{') {
        if (previous == "organizations") {
          out += a.owner.org_id;
        } else if (previous == "members") {
          out += a.member_id;
        } else if (previous == "api-keys") {
          out += a.key_id;
        } else if (previous == "triggers") {
          out += a.trigger_id;
        } else if (previous == "conditions") {
          out += a.condition_id;
        } else if (previous == "actions") {
          out += a.action_id;
        } else if (previous == "dead-letters" || previous == "jobs") {
          out += a.job_id;
        } else if (previous == "users") {
          out += a.owner.id;
        } else {
          out += "00000000-0000-0000-0000-000000000000";
        }
      } else {
        out += segment;
      }
      previous = segment;
      i = end == std::string::npos ? pattern.size() : end;
    }
    return out;
  }

  // A body plausible enough to get past validation, so isolation (not a 400) is what is tested.
  static std::string BodyFor(const Route& route) {
    if (route.method == "GET" || route.method == "DELETE") return "";
    return R"({"name": "x", "description": "x", "registry": "reputation", "role": "member",
               "condition_type": "score_threshold", "operator": "<", "value": "10",
               "action_type": "webhook", "config": {"url": "https://example.com/h"},
               "permissions": ["read"], "new_owner_id": "00000000-0000-0000-0000-000000000000",
               "user_id": "00000000-0000-0000-0000-000000000000", "failure_threshold": 5})";
  }

  // Routes not scoped to an organization's data.
  static bool IsTenantNeutral(const Route& route) {
    static const std::set<std::string> kNeutral = {"/api/v1/auth/register", "/api/v1/auth/login",
                                                   "/api/v1/auth/refresh",  "/api/v1/auth/logout",
                                                   "/api/v1/auth/me",       "/api/v1/organizations",
                                                   "/api/v1/events"};
    return !route.authenticated || kNeutral.count(route.pattern) > 0;
  }

  void ExpectNoLeak(const ApiResponse& r, const TenantA& a, const std::string& what) {
    for (const std::string& secret : a.secrets) {
      EXPECT_EQ(r.body.find(secret), std::string::npos)
          << what << " leaked '" << secret << "': " << r.body.substr(0, 300);
    }
    EXPECT_LT(r.status, 500) << what << ": " << r.body;
  }
};

TEST_F(TenantIsolationTest, EveryOrganizationRouteRefusesAnotherTenantsUser) {
  TenantA a = SeedTenantA();
  SeededUser bob = SeedUser("bob_tenant_b");
  int checked = 0;
  for (const Route& route : routes_) {
    if (IsTenantNeutral(route)) continue;
    std::string path = FillPath(route.pattern, a);
    std::string what = route.method + " " + route.pattern;
    bool has_param = route.pattern.find('{') != std::string::npos;
    // Bob acts in his own organization…
    ApiResponse own = CallAs(bob, route.method, path, BodyFor(route));
    ExpectNoLeak(own, a, what + " (own org header)");
    if (has_param) {
      EXPECT_TRUE(own.status == 404 || own.status == 403) << what << " → " << own.status;
    }
    // …and claims A's organization in the header.
    ApiResponse claimed = CallAs(bob, route.method, path, BodyFor(route), a.owner.org_id);
    ExpectNoLeak(claimed, a, what + " (A's org header)");
    EXPECT_TRUE(claimed.status == 404 || claimed.status == 403) << what << " → " << claimed.status;
    ++checked;
  }
  // A's data is untouched by all of that.
  EXPECT_EQ(QueryValue("SELECT count(*) FROM triggers WHERE id = '" + a.trigger_id + "'"), "1");
  EXPECT_EQ(QueryValue("SELECT name FROM triggers WHERE id = '" + a.trigger_id + "'"),
            "secret-trigger-A");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM trigger_conditions WHERE trigger_id = '" +
                       a.trigger_id + "'"),
            "1");
  EXPECT_EQ(QueryValue("SELECT revoked_at IS NULL FROM api_keys WHERE id = '" + a.key_id + "'"),
            "t");
  EXPECT_EQ(QueryValue("SELECT status FROM action_jobs WHERE id = '" + a.job_id + "'"), "dead");
  RecordProperty("routes_checked", checked);
}

TEST_F(TenantIsolationTest, ListRoutesShowOnlyTheCallersOwnData) {
  TenantA a = SeedTenantA();
  SeededUser bob = SeedUser("bob_tenant_b");
  for (const Route& route : routes_) {
    if (route.method != "GET" || !route.authenticated) continue;
    if (route.pattern.find('{') != std::string::npos) continue;
    if (route.pattern == "/api/v1/events") continue;  // events are public chain data
    ApiResponse r = CallAs(bob, "GET", route.pattern);
    ExpectNoLeak(r, a, "GET " + route.pattern);
  }
}

}  // namespace
}  // namespace auri::api::test
