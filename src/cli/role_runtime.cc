#include "cli/role_runtime.h"

#include <ctime>
#include <utility>

#include "api/health.h"
#include "api/http.h"
#include "common/logging.h"
#include "common/metrics.h"

namespace auri {

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

StopSignalWatcher::StopSignalWatcher(sigset_t signals, const Logger& log, std::string message,
                                     std::function<void()> on_stop)
    : thread_([this, signals, &log, message = std::move(message), on_stop = std::move(on_stop)] {
        // A bounded wait, so the destructor can end the thread when the role stopped by itself.
        timespec tick{0, 200 * 1000 * 1000};
        while (!done_.load()) {
          int sig = sigtimedwait(&signals, nullptr, &tick);
          if (sig == SIGTERM || sig == SIGINT) {
            log.Info(message, {{"signal", sig}});
            on_stop();
            return;
          }
        }
      }) {}

StopSignalWatcher::~StopSignalWatcher() {
  done_.store(true);
  thread_.join();
}

Result<std::unique_ptr<api::Server>> StartRoleEndpoint(const Config& c, const std::string& host,
                                                       int port, const Logger& log,
                                                       MetricsRegistry& metrics,
                                                       api::Handler health,
                                                       std::string health_description) {
  auto routes = api::Router::Create(
      {{.method = "GET",
        .pattern = "/health",
        .handler = std::move(health),
        .probe = true,
        .description = std::move(health_description)},
       {.method = "GET",
        .pattern = "/metrics",
        .handler = [&metrics](const api::HttpRequest&) { return api::MetricsResponse(metrics); },
        .probe = true,
        .description = "Prometheus metrics"}});
  if (!routes.ok()) return routes.status();
  Config::Api http = c.api;
  http.host = host;
  http.port = port;
  http.threads = 1;
  http.cors_origins.clear();
  auto server = std::make_unique<api::Server>(http, log, metrics, std::move(routes).value());
  Status listening = server->Start();
  if (!listening.ok()) return listening;
  return server;
}

}  // namespace auri
