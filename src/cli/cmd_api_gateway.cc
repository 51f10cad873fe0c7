// `auri api-gateway`: the HTTP API role. Wires Config → PostgreSQL pool, Redis client, dependency
// probe, metrics, route table → Server, and runs until SIGTERM/SIGINT (graceful shutdown).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "api/authenticator.h"
#include "api/health.h"
#include "api/member_role_cache.h"
#include "api/rate_limit_policy.h"
#include "api/routes.h"
#include "api/server.h"
#include "api/trigger_cache.h"
#include "api/trigger_cache_invalidator.h"
#include "auth/jwt.h"
#include "cache/rate_limiter.h"
#include "cache/redis_client.h"
#include "cli/context.h"
#include "cli/database_url.h"
#include "cli/exit_codes.h"
#include "common/metrics.h"
#include "common/version.h"
#include "secrets/secret_matcher.h"
#include "secrets/secret_store.h"
#include "store/auth_repository.h"
#include "store/event_repository.h"
#include "store/pool.h"
#include "store/user_repository.h"

namespace auri {
namespace {

// Deletes expired refresh tokens and auth_failures rows older than 30 days: once at start, then
// every hour, until destroyed. Failures are logged and retried at the next run (the rows only
// cost space meanwhile).
class AuthRecordCleanup {
 public:
  static constexpr std::chrono::hours kInterval{1};
  static constexpr std::chrono::hours kFailureRetention{24 * 30};

  AuthRecordCleanup(ConnectionPool& pool, const Logger& log) : pool_(pool), log_(log) {
    thread_ = std::thread([this] { Run(); });
  }
  ~AuthRecordCleanup() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      Result<AuthCleanupCounts> counts =
          DeleteExpiredAuthRecords(pool_, kFailureRetention, std::chrono::milliseconds(5000));
      if (counts.ok()) {
        log_.Info("expired auth records deleted", {{"refresh_tokens", counts->refresh_tokens},
                                                   {"auth_failures", counts->auth_failures}});
      } else {
        log_.Warn("auth record cleanup failed; retrying in an hour",
                  {{"error", counts.status().ToString()}});
      }
      lock.lock();
      cv_.wait_for(lock, kInterval, [this] { return stop_; });
    }
  }

  ConnectionPool& pool_;
  const Logger& log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int RunApiGateway(const CliContext& ctx) {
  const Config& c = ctx.config;
  MetricsRegistry metrics;

  // The secret store the supervisor prepared (`auri up`): the ingest token, the JWT key ring and
  // the `database-url` are re-read within a second of a change, so rotating them or switching the
  // database (`auri restore --switch`) needs no restart.
  auto secrets = OpenSecretStore(c);
  if (!secrets.ok()) return ReportFailure(secrets.status());

  PoolOptions pool_options;
  pool_options.dsn = ServiceDatabaseDsn(c, &secrets.value());
  pool_options.size = c.postgres.pool_size;
  pool_options.statement_timeout_ms = c.postgres.statement_timeout_ms;
  ConnectionPool pool(pool_options);
  DatabaseUrlWatcher database_url(&secrets.value(), {&pool}, ctx.log);

  RedisOptions redis_options;
  redis_options.host = c.RedisHost();
  redis_options.port = c.RedisPort();
  redis_options.timeout_ms = c.redis.timeout_ms;
  // Every request checks its rate limit in Redis on the handler thread, so each of the api.threads
  // may need a connection at the same moment. With fewer (the default 4), handlers queued on the
  // pool's condition variable: under load that futex traffic was most of the gateway's lock waits
  // (perf, docs/benchmarks.md "Authenticated read"). Idle connections cost Redis nearly nothing.
  redis_options.pool_size = std::max(redis_options.pool_size, c.api.threads);
  RedisClient redis(redis_options);

  // Both pings bound their own waits (connect_timeout/statement_timeout, redis.timeout_ms); the
  // probe thread calls them, never a request.
  auto ping_timeout = std::chrono::milliseconds(c.postgres.connect_timeout_seconds * 1000);
  api::DependencyProbe probe([&pool, ping_timeout] { return pool.Ping(ping_timeout); },
                             [&redis] { return redis.Ping(); }, std::chrono::milliseconds(500),
                             &ctx.log);
  probe.Start();

  SystemClock clock;
  SecretMatcher ingest_token(&secrets.value(), "ingest-token", &clock);

  api::GatewayDeps deps;
  deps.probe = &probe;
  deps.metrics = &metrics;
  // A request waits at most this long for a pooled connection; the INSERT itself is bounded by
  // statement_timeout.
  auto acquire_timeout = std::chrono::milliseconds(c.postgres.connect_timeout_seconds * 1000);
  deps.ingest.store = [&pool, acquire_timeout](
                          const std::vector<pipeline::Event>& events) -> Result<api::IngestCounts> {
    ASSIGN_OR_RETURN(InsertEventsResult r, InsertEvents(pool, events, acquire_timeout));
    return api::IngestCounts{r.accepted, r.duplicates};
  };
  deps.ingest.metrics = api::RegisterIngestMetrics(&metrics);
  deps.ingest.logger = &ctx.log;

  // Access tokens are signed with the key ring of the `jwt-signing-key` secret, re-read within a
  // second of a rotation.
  auto jwt = JwtKeyRingCache::Create(secrets.value(), clock);
  if (!jwt.ok()) return ReportFailure(jwt.status());
  api::Authenticator authenticator(api::AuthenticatorDeps{
      .pool = &pool,
      .jwt = jwt.value().get(),
      .ingest_token_valid = [&ingest_token](std::string_view t) { return ingest_token.Matches(t); },
      .logger = &ctx.log,
      .acquire_timeout = acquire_timeout,
      // The dummy hash for unknown key prefixes must cost what real key hashes cost.
      .argon2_limits = Argon2LimitsByName(c.auth.argon2).value_or(Argon2Limits::Interactive())});
  // Every user request naming an organization needs the caller's role in it: cached briefly
  // (api.member_role_cache_ms; the trade-off is in docs/decisions.md).
  api::MemberRoleCache member_roles(
      [&pool, acquire_timeout](const std::string& organization_id, const std::string& user_id) {
        return FindMemberRole(pool, organization_id, user_id, acquire_timeout);
      },
      &clock,
      api::MemberRoleCache::Options{.ttl = std::chrono::milliseconds(c.api.member_role_cache_ms)});
  // GET /api/v1/triggers/{id} answers are reused for api.trigger_cache_ms, forgotten on writes
  // through this gateway and on NOTIFY trigger_changed (the trade-off is in docs/decisions.md).
  api::TriggerCache trigger_cache(
      &clock, api::TriggerCache::Options{.ttl = std::chrono::milliseconds(c.api.trigger_cache_ms)});
  std::optional<api::TriggerCacheInvalidator> trigger_cache_invalidator;
  if (trigger_cache.enabled()) {
    trigger_cache_invalidator.emplace(&trigger_cache, &ctx.log,
                                      api::TriggerCacheInvalidator::Options{.pool = &pool});
  }
  deps.trigger_cache = &trigger_cache;
  deps.pool = &pool;
  deps.authenticator = &authenticator;
  deps.member_roles = &member_roles;
  deps.jwt = jwt.value().get();
  deps.config = &c;
  deps.clock = &clock;
  deps.logger = &ctx.log;

  auto router = api::Router::Create(api::BaseRoutes(deps));
  if (!router.ok()) return ReportFailure(router.status());

  // Rate limits count in Redis (shared by every replica); if Redis stops answering, an in-process
  // limiter with the same limits takes over until it is back (/health then says "degraded").
  RedisRateLimiter redis_limiter(&redis, "auri:rl:");
  LocalRateLimiter local_limiter;
  FailoverRateLimiter limiter(&redis_limiter, &local_limiter);
  api::RateLimitPolicy rate_policy(
      c.rate_limit, &limiter, &clock, [&pool, &ctx, acquire_timeout](const api::HttpRequest& r) {
        Status s = RecordApiKeyEvent(pool, r.caller.api_key_id, r.caller.organization_id,
                                     "rate_limited", r.client_ip, r.path, acquire_timeout);
        if (!s.ok()) ctx.log.Warn("could not write api key audit row", {{"error", s.ToString()}});
      });

  api::PipelineHooks hooks;
  hooks.authenticate = [&authenticator](const api::HttpRequest& r) {
    return authenticator.Authenticate(r);
  };
  hooks.rate_limit = [&rate_policy](const api::HttpRequest& r, const api::Route& route) {
    return rate_policy.Decide(r, route);
  };
  AuthRecordCleanup cleanup(pool, ctx.log);
  api::Server server(c.api, ctx.log, metrics, std::move(router).value(), std::move(hooks));
  Status started = server.Start();
  if (!started.ok()) return ReportFailure(started);
  ctx.log.Info("api-gateway listening", {{"url", c.ApiBaseUrl()}, {"version", kVersion}});
  Status stopped = server.RunUntilSignal();
  probe.Stop();
  ctx.log.Info("api-gateway stopped", {{"clean", stopped.ok()}});
  return stopped.ok() ? kExitOk : ReportFailure(stopped);
}

}  // namespace auri
