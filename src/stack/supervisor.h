#pragma once
// Supervisor: starts the components of a local stack in order, waits until each is ready, keeps
// them running (a crashed component is restarted with exponential backoff and the reason is
// logged), and on SIGTERM/SIGINT stops them in reverse order. State is published in the run file.
//
// Run() is meant for a dedicated process (`auri supervise`): it blocks SIGTERM, SIGINT, SIGCHLD
// and SIGHUP for the calling thread and handles them synchronously (sigtimedwait), so no signal
// handler runs arbitrary code.
//
// SIGHUP asks the supervisor to look again at what it runs (used by `auri restore`):
//   - components the `reload` callback returns replace the running ones of the same name (the old
//     process is stopped, then the new spec adopts or starts its process and is waited for);
//   - a component whose `held` says true is stopped and stays stopped; one no longer held is
//     started at once.
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
  // Optional: the pid of an already running process to supervise instead of starting one (a
  // restored PostgreSQL handed over by `auri restore --switch`), or -1. Asked before every
  // restart and replacement (not at the first start). An adopted process is not our child: its
  // exit is noticed by polling every tick, and `stop` must not rely on waitpid.
  std::function<pid_t()> adopt;
  // Optional: runs before a replacement or released component is adopted or started (e.g.
  // rewrite the configuration files that name the new process's location). A failure is logged
  // and the start goes on.
  std::function<Status()> before_start;
  // Optional: true while the component must stay stopped (PostgreSQL during `auri restore
  // --in-place`). Asked on SIGHUP and before every restart.
  std::function<bool()> held;
};

struct SupervisorOptions {
  std::string state_file;
  std::string url;
  std::chrono::milliseconds start_timeout{60000};  // whole start phase
  std::chrono::milliseconds max_backoff{30000};    // restart backoff cap
  std::chrono::milliseconds stable_after{60000};   // uptime that resets the backoff
  // Optional, called on SIGHUP: specs replacing the components of the same name (empty = no
  // change). Each replaced component is stopped with its old spec first.
  std::function<std::vector<ComponentSpec>()> reload;
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
  // SIGHUP: replacements, holds, releases (see the header comment).
  void Reload(std::vector<Running>* running);
  // Adopts or starts `r`'s process now and waits (bounded by start_timeout) until it is ready.
  void StartNow(Running* r);
  void StopOne(Running* r, const std::string& why);
  Status Publish(const std::vector<Running>& running, const std::string& state,
                 const std::string& error = {});

  std::vector<ComponentSpec> components_;
  SupervisorOptions options_;
  const Logger& log_;
  int64_t started_at_ms_ = 0;
};

}  // namespace auri
