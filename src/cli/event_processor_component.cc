#include "cli/event_processor_component.h"

#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "stack/net_probe.h"
#include "stack/postgres_server.h"
#include "stack/process.h"

namespace auri {
namespace {

using std::chrono::milliseconds;

Status WaitForProcessor(const Config& c, pid_t pid, milliseconds timeout) {
  const std::string log = c.LogDir() + "/event-processor.log";
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto r = HttpGet(c.processor.host, c.processor.metrics_port, "/health", milliseconds(1000));
    if (r.ok() && r->status == 200) return Status::Ok();
    auto exited = WaitForExit(pid, milliseconds(0));
    if (exited.ok()) {
      return Unavailable("event-processor " + DescribeWaitStatus(*exited) + "; last lines of " +
                             log + ":\n" + TailOfFile(log, 8),
                         "is processor.metrics_port " + std::to_string(c.processor.metrics_port) +
                             " already in use?");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded("event-processor did not report healthy within " +
                              std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
}

}  // namespace

ComponentSpec EventProcessorComponent(const CliContext& ctx) {
  const Config& c = ctx.config;
  std::string log = c.LogDir() + "/event-processor.log";
  // The batch in progress commits within a statement timeout; then the loop returns.
  milliseconds stop_timeout(c.postgres.statement_timeout_ms + c.processor.poll_interval_ms + 5000);
  return {"event-processor",
          c.processor.metrics_port,
          [&ctx, log]() {
            SpawnOptions spawn;
            spawn.argv = {ctx.self_exe};
            spawn.argv.insert(spawn.argv.end(), ctx.config_args.begin(), ctx.config_args.end());
            spawn.argv.push_back("event-processor");
            spawn.log_file = log;
            spawn.parent_death_signal = SIGTERM;
            return Spawn(spawn);
          },
          [&c](pid_t pid, milliseconds t) { return WaitForProcessor(c, pid, t); },
          [stop_timeout](pid_t pid) { return StopProcess(pid, SIGTERM, stop_timeout, true); },
          nullptr};
}

bool EventProcessorHealthy(const Config& config, int port, std::string* detail) {
  auto r = HttpGet(config.processor.host, port, "/health", milliseconds(2000));
  if (r.ok()) {
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (!j.is_discarded() && j.contains("status") && j["status"].is_string()) {
      *detail = j["status"].get<std::string>();
    }
  }
  return r.ok() && r->status == 200;
}

}  // namespace auri
