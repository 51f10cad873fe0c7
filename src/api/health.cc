#include "api/health.h"

#include <algorithm>
#include <exception>
#include <string>

#include "common/logging.h"
#include "common/metrics.h"
#include "common/version.h"

namespace auri::api {
namespace {

// A ping that throws is a failed ping; nothing may escape the probe thread.
bool Answers(const DependencyProbe::Ping& ping, Status* error) {
  try {
    *error = ping();
  } catch (const std::exception& e) {
    *error = Unavailable(std::string("ping threw: ") + e.what());
  } catch (...) {
    *error = Unavailable("ping threw a non-standard exception");
  }
  return error->ok();
}

}  // namespace

DependencyProbe::DependencyProbe(Ping ping_database, Ping ping_redis,
                                 std::chrono::milliseconds refresh_interval, const Logger* logger)
    : ping_database_(std::move(ping_database)),
      ping_redis_(std::move(ping_redis)),
      refresh_interval_(std::max(refresh_interval, std::chrono::milliseconds(1))),
      stale_after_(std::max(4 * refresh_interval_, std::chrono::milliseconds(2000))),
      logger_(logger) {}

DependencyProbe::~DependencyProbe() { Stop(); }

void DependencyProbe::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return;
    started_ = true;
  }
  ProbeOnce();
  thread_ = std::thread([this] { Run(); });
}

void DependencyProbe::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

DependencyProbe::State DependencyProbe::Current() const {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  State state;
  state.database_ok = database_ok_ && now - database_ok_at_ <= stale_after_;
  state.redis_ok = redis_ok_ && now - redis_ok_at_ <= stale_after_;
  return state;
}

void DependencyProbe::ProbeOnce() {
  // Pings run without the lock so Current() never waits for a slow dependency.
  Status database_error, redis_error;
  bool database_ok = Answers(ping_database_, &database_error);
  bool redis_ok = Answers(ping_redis_, &redis_error);
  auto now = std::chrono::steady_clock::now();

  bool database_changed, redis_changed;
  {
    std::lock_guard lock(mu_);
    // The first probe always logs, so the log says where the state started.
    database_changed = !probed_ || database_ok != database_ok_;
    redis_changed = !probed_ || redis_ok != redis_ok_;
    probed_ = true;
    database_ok_ = database_ok;
    redis_ok_ = redis_ok;
    if (database_ok) database_ok_at_ = now;
    if (redis_ok) redis_ok_at_ = now;
  }
  if (!logger_) return;
  if (database_changed && database_ok) logger_->Info("health: database connected");
  if (database_changed && !database_ok) {
    logger_->Warn("health: database disconnected", {{"error", database_error.ToString()}});
  }
  if (redis_changed && redis_ok) logger_->Info("health: redis connected");
  if (redis_changed && !redis_ok) {
    logger_->Warn("health: redis disconnected", {{"error", redis_error.ToString()}});
  }
}

void DependencyProbe::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, refresh_interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    ProbeOnce();
    lock.lock();
  }
}

HttpResponse HealthResponse(const DependencyProbe& probe,
                            std::chrono::steady_clock::time_point started_at) {
  DependencyProbe::State state = probe.Current();
  const char* status = !state.database_ok ? "unhealthy" : !state.redis_ok ? "degraded" : "healthy";
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                 started_at)
                    .count();

  std::string body;
  body.reserve(160);
  body.append("{\"status\":\"").append(status);
  body.append("\",\"database\":\"").append(state.database_ok ? "connected" : "disconnected");
  body.append("\",\"redis\":\"").append(state.redis_ok ? "connected" : "disconnected");
  body.append("\",\"version\":\"");
  AppendJsonEscaped(&body, kVersion);
  body.append("\",\"uptime_seconds\":").append(std::to_string(std::max<int64_t>(uptime, 0)));
  body.push_back('}');

  HttpResponse response = JsonResponse(state.database_ok ? 200 : 503, std::move(body));
  if (!state.database_ok) response.headers.Set("Retry-After", "5");
  return response;
}

HttpResponse MetricsResponse(const MetricsRegistry& metrics) {
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4";
  response.body = metrics.Render();
  return response;
}

}  // namespace auri::api
