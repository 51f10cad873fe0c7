#pragma once
// Supervisor: starts the components of a local stack in order, waits until each is ready, keeps
// them running (a crashed component is restarted with exponential backoff and the reason is
// logged), and on SIGTERM/SIGINT stops them in reverse order. State is published in the run file.
//
// Run() is meant for a dedicated process (`auri supervise`): it blocks SIGTERM, SIGINT and
// SIGCHLD for the calling thread and handles them synchronously (sigtimedwait), so no signal
// handler runs arbitrary code.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/result.h"

namespace auri {

struct ComponentSpec {
  std::string name;
  int port = 0;
  std::function<Result<pid_t>()> start;                                // spawn the child
  std::function<Status(pid_t, std::chrono::milliseconds)> wait_ready;  // bounded readiness poll
  std::function<Status(pid_t)> stop;                                   // bounded stop of a child
  // Runs once after the first successful start (e.g. create database + migrations). Optional.
  std::function<Status()> after_first_ready;
};

struct SupervisorOptions {
  std::string state_file;
  std::string url;
  std::chrono::milliseconds start_timeout{60000};  // whole start phase
  std::chrono::milliseconds max_backoff{30000};    // restart backoff cap
  std::chrono::milliseconds stable_after{60000};   // uptime that resets the backoff
};

class Supervisor {
 public:
  Supervisor(std::vector<ComponentSpec> components, SupervisorOptions options, const Logger& log);

  // Starts everything, supervises until a stop signal, stops everything. Returns OK after a clean
  // stop; an error if the start phase failed (everything already started is stopped again and the
  // run file says state=failed with the reason).
  Status Run();

 private:
  struct Running;
  Status StartAll(std::vector<Running>* running);
  void StopAll(std::vector<Running>* running);
  Status Publish(const std::vector<Running>& running, const std::string& state,
                 const std::string& error = {});

  std::vector<ComponentSpec> components_;
  SupervisorOptions options_;
  const Logger& log_;
  int64_t started_at_ms_ = 0;
};

}  // namespace auri
