#pragma once
// What a background role (event-processor, dr-agent) runs around its loop: SIGTERM/SIGINT turned
// into the loop's stop request, and a small HTTP endpoint on the role's own port with /health and
// /metrics (what the supervisor probes and Prometheus scrapes).
#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "api/router.h"
#include "api/server.h"
#include "common/result.h"
#include "config/config.h"

namespace auri {

class Logger;
class MetricsRegistry;

// Blocks SIGTERM and SIGINT in the calling thread. Call it first thing in the role's main, before
// any thread starts, so every thread inherits the mask and only the StopSignalWatcher takes them.
sigset_t BlockStopSignals();

// Waits for the blocked stop signals on its own thread; on the first one logs `message` and calls
// `on_stop` (which asks the role's loop to return). The destructor ends the wait (within 200 ms).
class StopSignalWatcher {
 public:
  StopSignalWatcher(sigset_t signals, const Logger& log, std::string message,
                    std::function<void()> on_stop);
  ~StopSignalWatcher();
  StopSignalWatcher(const StopSignalWatcher&) = delete;
  StopSignalWatcher& operator=(const StopSignalWatcher&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Starts GET /health (`health`, documented as `health_description`) and GET /metrics (`metrics`)
// on host:port with one thread and no CORS; the other HTTP limits are the gateway's (`c.api`).
// Errors: the listener's (e.g. the port is taken).
Result<std::unique_ptr<api::Server>> StartRoleEndpoint(const Config& c, const std::string& host,
                                                       int port, const Logger& log,
                                                       MetricsRegistry& metrics,
                                                       api::Handler health,
                                                       std::string health_description);

}  // namespace auri
