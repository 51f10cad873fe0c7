// `auri event-processor`: the event-processor role. Wires Config → PostgreSQL pool → the
// EventProcessor loop, and serves /metrics and /health on processor.host:processor.metrics_port
// with the api-gateway's Server and Router (two routes; none of the gateway's handlers). Runs
// until SIGTERM/SIGINT; the batch in progress then commits before the process exits.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "api/health.h"
#include "api/http.h"
#include "api/router.h"
#include "api/server.h"
#include "cli/context.h"
#include "cli/database_url.h"
#include "cli/exit_codes.h"
#include "cli/role_runtime.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/version.h"
#include "processor/event_processor.h"
#include "secrets/secret_store.h"
#include "store/pool.h"

namespace auri {
namespace {

std::string ProcessorId() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "localhost") + ":" + std::to_string(::getpid());
}

// GET /health of the processor: {"status": "healthy"|"unhealthy", "database": ..., "triggers",
// "lag_seconds", "backpressure", "version"}; 503 when the database has not answered recently.
api::HttpResponse ProcessorHealthResponse(const EventProcessor& processor) {
  EventProcessor::Health h = processor.CurrentHealth();
  std::string body = "{\"status\":\"";
  body += h.database_ok ? "healthy" : "unhealthy";
  body += "\",\"database\":\"";
  body += h.database_ok ? "connected" : "disconnected";
  body += "\",\"triggers\":" + std::to_string(h.triggers);
  body += ",\"lag_seconds\":" + std::to_string(h.lag_seconds);
  body += ",\"backpressure\":";
  body += h.backpressure ? "true" : "false";
  body += ",\"version\":\"";
  AppendJsonEscaped(&body, kVersion);
  body += "\"}";
  api::HttpResponse r = api::JsonResponse(h.database_ok ? 200 : 503, std::move(body));
  if (!h.database_ok) r.headers.Set("Retry-After", "5");
  return r;
}

}  // namespace

int RunEventProcessor(const CliContext& ctx) {
  const Config& c = ctx.config;
  const sigset_t stop_signals = BlockStopSignals();  // before any thread starts

  MetricsRegistry metrics;
  SystemClock clock;
  // The database is the `database-url` secret's when the store has it (followed while running:
  // `auri restore --switch`), else the configuration's. Without a secret store (a processor run
  // on its own) the configuration's, fixed.
  auto secrets = OpenSecretStore(c);
  if (!secrets.ok()) {
    ctx.log.Warn("no secret store; using the configured database without following database-url",
                 {{"error", secrets.status().ToString()}});
  }
  const SecretStore* store = secrets.ok() ? &secrets.value() : nullptr;
  PoolOptions pool_options;
  pool_options.dsn = ServiceDatabaseDsn(c, store);
  pool_options.size = std::min(c.postgres.pool_size, 4);
  pool_options.statement_timeout_ms = c.postgres.statement_timeout_ms;
  ConnectionPool pool(pool_options);
  std::unique_ptr<DatabaseUrlWatcher> database_url;
  if (store)
    database_url =
        std::make_unique<DatabaseUrlWatcher>(store, std::vector<ConnectionPool*>{&pool}, ctx.log);

  EventProcessorOptions options;
  options.processor_id = ProcessorId();
  options.batch_size = c.processor.batch_size;
  options.poll_interval = std::chrono::milliseconds(c.processor.poll_interval_ms);
  options.trigger_reload_interval = std::chrono::seconds(c.processor.trigger_reload_seconds);
  options.maintenance_interval = std::chrono::seconds(c.processor.maintenance_interval_seconds);
  options.partition_months_ahead = c.processor.partition_months_ahead;
  options.retention_days = c.events.retention_days;
  options.max_pending_jobs = c.delivery.max_pending;
  options.db_timeout = std::chrono::milliseconds(c.postgres.connect_timeout_seconds * 1000);
  EventProcessor processor(pool, options, ctx.log, metrics, clock);

  Status started = processor.Start();
  if (!started.ok()) return ReportFailure(started.WithContext("starting the event-processor"));

  auto server = StartRoleEndpoint(
      c, c.processor.host, c.processor.metrics_port, ctx.log, metrics,
      [&processor](const api::HttpRequest&) { return ProcessorHealthResponse(processor); },
      "Event-processor health");
  if (!server.ok()) return ReportFailure(server.status());
  StopSignalWatcher stop(stop_signals, ctx.log, "stop requested; finishing the current batch",
                         [&processor] { processor.RequestStop(); });

  ctx.log.Info("event-processor running",
               {{"processor_id", options.processor_id},
                {"metrics", "http://" + c.processor.host + ":" + std::to_string((*server)->port())},
                {"version", kVersion}});
  processor.Run();
  Status stopped = (*server)->Stop(std::chrono::seconds(5));
  ctx.log.Info("event-processor stopped", {{"clean", stopped.ok()}});
  return kExitOk;
}

}  // namespace auri
