#pragma once
// The whole api-gateway in-process against a real database: every route of BaseRoutes (accounts,
// organizations, triggers, events), the real Authenticator, a real secret store (JWT key ring,
// ingest token) under a temp home. Tests talk HTTP to it and may seed rows directly with SQL.
//
// Argon2 runs with libsodium's minimum limits here (Argon2Limits::Minimum) so creating users and
// keys is fast; timing tests that need realistic costs set their own.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "api/authenticator.h"
#include "api/health.h"
#include "api/member_role_cache.h"
#include "api/routes.h"
#include "api/server.h"
#include "api/trigger_cache.h"
#include "api/trigger_cache_invalidator.h"
#include "auth/jwt.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "config/config.h"
#include "secrets/master_key.h"
#include "secrets/secret_matcher.h"
#include "secrets/secret_store.h"
#include "store/auth_repository.h"
#include "store/event_repository.h"
#include "store/pool.h"
#include "tests/integration/api/raw_http.h"
#include "tests/integration/harness.h"
#include "tests/unit/api/log_capture.h"

namespace auri::api::test {

// An HTTP answer with the body parsed (null when it is not JSON).
struct ApiResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// A user seeded directly in the database with a personal organization (owner) and a signed
// access token, for tests that are not about registration itself.
struct SeededUser {
  std::string id;
  std::string username;
  std::string org_id;  // the personal organization
  std::string token;   // JWT access token
};

class ApiFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char home_template[] = "/tmp/auri-api-test-XXXXXX";
    ASSERT_NE(::mkdtemp(home_template), nullptr);
    home_ = home_template;
    Result<MasterKey> key = LoadOrCreateMasterKey("", home_ + "/master.key", /*create=*/true);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    Result<SecretStore> store = SecretStore::Open(home_ + "/secrets", std::move(key).value());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    secrets_ = std::make_unique<SecretStore>(std::move(store).value());
    ASSERT_TRUE(secrets_->EnsureInitialSecrets().ok());
    ingest_token_ = secrets_->Get("ingest-token")->value.reveal();
    matcher_ = std::make_unique<SecretMatcher>(secrets_.get(), "ingest-token", &clock_);
    auto jwt = JwtKeyRingCache::Create(*secrets_, clock_);
    ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
    jwt_ = std::move(jwt).value();

    dsn_ = auri::testing::CreateMigratedDatabase();
    pool_ = std::make_unique<ConnectionPool>(PoolOptions{.dsn = dsn_, .size = 4});
    probe_ = std::make_unique<DependencyProbe>(
        [] { return Status::Ok(); }, [] { return Status::Ok(); }, std::chrono::milliseconds(50));
    probe_->Start();

    config_ = DefaultConfigForTests();
    config_.auth.argon2 = argon2_;
    config_.api.trigger_cache_ms = trigger_cache_ms_;
    authenticator_ = std::make_unique<Authenticator>(AuthenticatorDeps{
        .pool = pool_.get(),
        .jwt = jwt_.get(),
        .ingest_token_valid = [this](std::string_view t) { return matcher_->Matches(t); },
        .logger = &log_.logger(),
        .argon2_limits = Argon2LimitsByName(argon2_).value_or(Argon2Limits::Minimum())});

    GatewayDeps deps{.probe = probe_.get(), .metrics = &metrics_};
    deps.ingest.store = [this](const std::vector<pipeline::Event>& events) -> Result<IngestCounts> {
      ASSIGN_OR_RETURN(InsertEventsResult r,
                       InsertEvents(*pool_, events, std::chrono::milliseconds(3000)));
      return IngestCounts{r.accepted, r.duplicates};
    };
    deps.ingest.metrics = RegisterIngestMetrics(&metrics_);
    // The gateway's default ttl, so every API test runs with the cache as deployed.
    member_roles_ = std::make_unique<MemberRoleCache>(
        [this](const std::string& organization_id, const std::string& user_id) {
          return FindMemberRole(*pool_, organization_id, user_id, std::chrono::milliseconds(3000));
        },
        &clock_,
        MemberRoleCache::Options{.ttl =
                                     std::chrono::milliseconds(config_.api.member_role_cache_ms)});
    // The trigger cache as deployed too, fed by a real LISTEN. SetUp waits until it is listening,
    // so a test's first read can already be cached (else a test of invalidation proves nothing).
    trigger_cache_ = std::make_unique<TriggerCache>(
        &clock_,
        TriggerCache::Options{.ttl = std::chrono::milliseconds(config_.api.trigger_cache_ms)});
    if (trigger_cache_->enabled()) {
      trigger_cache_invalidator_ = std::make_unique<TriggerCacheInvalidator>(
          trigger_cache_.get(), &log_.logger(),
          TriggerCacheInvalidator::Options{.dsn = dsn_,
                                           .wait_slice = std::chrono::milliseconds(50)});
      ASSERT_TRUE(WaitForTriggerCacheActive()) << "the trigger cache never started listening";
    }
    deps.trigger_cache = trigger_cache_.get();
    deps.pool = pool_.get();
    deps.authenticator = authenticator_.get();
    deps.member_roles = member_roles_.get();
    deps.jwt = jwt_.get();
    deps.config = &config_;
    deps.clock = &clock_;
    deps.logger = &log_.logger();
    routes_ = BaseRoutes(deps);
    Result<Router> router = Router::Create(routes_);
    ASSERT_TRUE(router.ok()) << router.status().ToString();

    PipelineHooks hooks;
    hooks.authenticate = [this](const HttpRequest& r) { return authenticator_->Authenticate(r); };
    ConfigureHooks(&hooks);
    server_ = std::make_unique<Server>(config_.api, log_.logger(), metrics_,
                                       std::move(router).value(), std::move(hooks));
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  void TearDown() override {
    server_.reset();
    trigger_cache_invalidator_.reset();
    if (probe_) probe_->Stop();
    std::error_code ignored;
    if (!home_.empty()) std::filesystem::remove_all(home_, ignored);
  }

  // True once the trigger cache serves (its invalidator is LISTENing); bounded wait.
  bool WaitForTriggerCacheActive() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (trigger_cache_->active()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Subclasses may add a rate limiter etc. before the server starts.
  virtual void ConfigureHooks(PipelineHooks* hooks) {}

  static Config DefaultConfigForTests() {
    Config c;
    c.api.host = "127.0.0.1";
    c.api.port = 0;
    c.api.threads = 2;
    c.api.body_limit_bytes = 1 << 20;
    c.api.header_limit_bytes = 16 << 10;
    c.api.read_timeout_seconds = 5;
    c.api.shutdown_timeout_seconds = 5;
    c.auth.argon2 = "minimum";          // tests only: hashing users and keys must be fast
    c.api.member_role_cache_ms = 1000;  // the default, so the tests see the cache as deployed
    c.api.trigger_cache_ms = 1000;      // the default, likewise
    return c;
  }

  // Sends one request. `headers` are extra "Name: value\r\n" lines. A non-empty body is sent as
  // application/json unless `headers` sets another Content-Type.
  ApiResponse Call(std::string_view method, std::string_view target, std::string_view body = "",
                   std::string_view headers = "") {
    std::string request = std::string(method) + " " + std::string(target) +
                          " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" + std::string(headers);
    if (!body.empty() && std::string(headers).find("Content-Type") == std::string::npos) {
      request += "Content-Type: application/json\r\n";
    }
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    std::optional<RawResponse> raw = Fetch(server_->port(), request);
    ApiResponse out;
    if (!raw) {
      ADD_FAILURE() << "no response to " << method << " " << target;
      return out;
    }
    out.status = raw->status;
    out.headers = raw->headers;
    out.body = raw->body;
    out.json = nlohmann::json::parse(raw->body, nullptr, false);
    if (out.json.is_discarded()) out.json = nullptr;
    return out;
  }

  // Call() as `user` acting in `org_id` (Authorization + X-Organization-ID).
  ApiResponse CallAs(const SeededUser& user, std::string_view method, std::string_view target,
                     std::string_view body = "", std::string org_id = "") {
    if (org_id.empty()) org_id = user.org_id;
    return Call(
        method, target, body,
        "Authorization: Bearer " + user.token + "\r\nX-Organization-ID: " + org_id + "\r\n");
  }

  // Inserts a user (password hash is a placeholder: this user cannot log in), its personal
  // organization with it as owner, and signs an access token for it.
  SeededUser SeedUser(const std::string& username) {
    SeededUser u;
    u.username = username;
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    u.id = tx.exec_params1(
                 "INSERT INTO users (username, email, password_hash) VALUES ($1, $2, "
                 "'seeded-no-login') RETURNING id::text",
                 username, username + "@example.test")[0]
               .as<std::string>();
    std::string slug;
    for (char ch : username) {
      slug += std::isalnum(static_cast<unsigned char>(ch))
                  ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                  : '-';
    }
    u.org_id = SeedOrganization(tx, slug + "-personal", u.id, /*personal=*/true);
    tx.commit();
    Result<std::string> token =
        jwt_->Sign(NewAccessTokenClaims(u.id, username, clock_.UnixMillis()));
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    u.token = token.ok() ? token.value() : "";
    return u;
  }

  // Adds `user_id` to `org_id` with `role` (not owner: an organization has exactly one).
  void SeedMember(const std::string& org_id, const std::string& user_id, const std::string& role) {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec_params(
        "INSERT INTO organization_members (organization_id, user_id, role) "
        "VALUES ($1, $2, $3)",
        org_id, user_id, role);
    tx.commit();
  }

  static std::string SeedOrganization(pqxx::work& tx, const std::string& slug,
                                      const std::string& owner_id, bool personal) {
    std::string id = tx.exec_params1(
                           "INSERT INTO organizations (name, slug, is_personal) "
                           "VALUES ($1, $1, $2) RETURNING id::text",
                           slug, personal)[0]
                         .as<std::string>();
    tx.exec_params(
        "INSERT INTO organization_members (organization_id, user_id, role) "
        "VALUES ($1, $2, 'owner')",
        id, owner_id);
    return id;
  }

  // One value from the test database (for asserting on rows).
  std::string QueryValue(const std::string& sql) {
    pqxx::connection c(dsn_);
    pqxx::read_transaction tx(c);
    pqxx::result r = tx.exec(sql);
    if (r.empty() || r[0][0].is_null()) return "";
    return r[0][0].as<std::string>();
  }

  // The auth.argon2 cost of the gateway under test (passwords, keys and the authenticator's dummy
  // hash). A timing test sets "interactive" in its constructor, before SetUp.
  std::string argon2_ = "minimum";
  // api.trigger_cache_ms of the gateway under test (the default); set in a constructor.
  int trigger_cache_ms_ = 1000;
  std::string home_;
  std::string dsn_;
  std::string ingest_token_;
  SystemClock clock_;
  LogCapture log_{LogLevel::kInfo};
  MetricsRegistry metrics_;
  Config config_;
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<SecretMatcher> matcher_;
  std::unique_ptr<JwtKeyRingCache> jwt_;
  std::unique_ptr<ConnectionPool> pool_;
  std::unique_ptr<DependencyProbe> probe_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<MemberRoleCache> member_roles_;
  std::unique_ptr<TriggerCache> trigger_cache_;
  std::unique_ptr<TriggerCacheInvalidator> trigger_cache_invalidator_;
  std::vector<Route> routes_;
  std::unique_ptr<Server> server_;
};

}  // namespace auri::api::test
