#include "stack/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/clock.h"
#include "stack/process.h"
#include "stack/stack_state.h"

namespace auri {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

struct Supervisor::Running {
  ComponentSpec* spec;  // points into components_ (a replacement is assigned in place)
  pid_t pid = -1;
  int restarts = 0;
  std::string last_exit;
  SteadyClock::time_point started;
  SteadyClock::time_point restart_at;  // when pid == -1 and a restart is due
  milliseconds backoff{500};
  bool adopted = false;  // pid is not our child (ComponentSpec::adopt)
  bool held = false;     // stopped on request (ComponentSpec::held)
};

Supervisor::Supervisor(std::vector<ComponentSpec> components, SupervisorOptions options,
                       const Logger& log)
    : components_(std::move(components)), options_(std::move(options)), log_(log) {}

Status Supervisor::Publish(const std::vector<Running>& running, const std::string& state,
                           const std::string& error) {
  StackState s;
  s.supervisor_pid = ::getpid();
  s.state = state;
  s.error = error;
  s.url = options_.url;
  s.started_at_ms = started_at_ms_;
  for (const auto& r : running) {
    s.components.push_back({r.spec->name, r.pid, r.spec->port, r.restarts, r.last_exit});
  }
  return WriteStackState(options_.state_file, s);
}

namespace {

// True when a stop signal is pending (checked between start steps).
bool StopRequested() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT);
}

}  // namespace

Status Supervisor::StartAll(std::vector<Running>* running) {
  auto deadline = SteadyClock::now() + options_.start_timeout;
  for (ComponentSpec& spec : components_) {
    if (StopRequested()) return FailedPrecondition("stop requested during start");
    auto t0 = SteadyClock::now();
    auto pid = spec.start();
    if (!pid.ok()) return pid.status().WithContext("starting " + spec.name);
    running->push_back(
        {&spec, *pid, 0, {}, SteadyClock::now(), {}, milliseconds(500), false, false});
    (void)Publish(*running, "starting");
    auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    Status ready = spec.wait_ready(*pid, std::max(left, milliseconds(1)));
    if (!ready.ok()) return ready.WithContext(spec.name + " did not become ready");
    if (spec.after_first_ready) {
      Status s = spec.after_first_ready();
      if (!s.ok()) return s.WithContext(spec.name);
    }
    log_.Info("component ready", {{"name", spec.name},
                                  {"pid", static_cast<int64_t>(*pid)},
                                  {"port", spec.port},
                                  {"seconds", SecondsSince(t0)}});
  }
  return Status::Ok();
}

void Supervisor::StopAll(std::vector<Running>* running) {
  // Reverse order: the api-gateway goes before the databases it uses.
  for (auto it = running->rbegin(); it != running->rend(); ++it) {
    if (it->pid <= 0) continue;
    auto t0 = SteadyClock::now();
    Status s = it->spec->stop(it->pid);
    if (!s.ok()) {
      log_.Error("component did not stop cleanly",
                 {{"name", it->spec->name}, {"error", s.ToString()}});
    } else {
      log_.Info("component stopped", {{"name", it->spec->name}, {"seconds", SecondsSince(t0)}});
    }
    it->pid = -1;
    (void)Publish(*running, "stopping");
  }
}

void Supervisor::StopOne(Running* r, const std::string& why) {
  if (r->pid <= 0) return;
  auto t0 = SteadyClock::now();
  Status s = r->spec->stop(r->pid);
  log_.Info("component stopped", {{"name", r->spec->name},
                                  {"reason", why},
                                  {"ok", s.ok()},
                                  {"error", s.ok() ? "" : s.ToString()},
                                  {"seconds", SecondsSince(t0)}});
  r->pid = -1;
  r->adopted = false;
  r->last_exit = "stopped: " + why;
}

void Supervisor::StartNow(Running* r) {
  auto t0 = SteadyClock::now();
  if (r->spec->before_start) {
    Status prepared = r->spec->before_start();
    if (!prepared.ok()) {
      log_.Error("preparing the start failed",
                 {{"name", r->spec->name}, {"error", prepared.ToString()}});
    }
  }
  pid_t pid = r->spec->adopt ? r->spec->adopt() : -1;
  bool adopted = pid > 0;
  if (!adopted) {
    auto started = r->spec->start();
    if (!started.ok()) {
      log_.Error("start failed", {{"name", r->spec->name}, {"error", started.status().ToString()}});
      r->restart_at = SteadyClock::now() + r->backoff;
      r->backoff = std::min(r->backoff * 2, options_.max_backoff);
      return;
    }
    pid = *started;
  }
  r->pid = pid;
  r->adopted = adopted;
  r->started = SteadyClock::now();
  r->backoff = milliseconds(500);
  Status ready = r->spec->wait_ready(pid, options_.start_timeout);
  log_.Info(adopted ? "component adopted" : "component started",
            {{"name", r->spec->name},
             {"pid", static_cast<int64_t>(pid)},
             {"ready", ready.ok()},
             {"error", ready.ok() ? "" : ready.ToString()},
             {"seconds", SecondsSince(t0)}});
}

void Supervisor::Reload(std::vector<Running>* running) {
  std::vector<ComponentSpec> changed;
  if (options_.reload) changed = options_.reload();
  for (ComponentSpec& spec : changed) {
    Running* r = nullptr;
    for (auto& each : *running) {
      if (each.spec->name == spec.name) r = &each;
    }
    if (r == nullptr) {
      log_.Warn("reload names an unknown component; ignored", {{"name", spec.name}});
      continue;
    }
    // The old process goes first: it may hold the port or files the new one needs, and its
    // stop function belongs to the old spec. `r->spec` points into components_, so assigning
    // the slot replaces the spec under it.
    StopOne(r, "replaced");
    *r->spec = std::move(spec);
    r->held = false;
    log_.Info("component replaced", {{"name", r->spec->name}});
    StartNow(r);
  }
  for (auto& r : *running) {
    bool held = r.spec->held && r.spec->held();
    if (held && !r.held) {
      StopOne(&r, "held");
      r.held = true;
      r.last_exit = "held (stopped on request)";
    } else if (!held && r.held) {
      r.held = false;
      log_.Info("component released", {{"name", r.spec->name}});
      StartNow(&r);
    }
  }
  (void)Publish(*running, "ready");
}

Status Supervisor::Run() {
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGCHLD);
  sigaddset(&handled, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &handled, nullptr);
  started_at_ms_ = SystemClock().UnixMillis();

  std::vector<Running> running;
  running.reserve(components_.size());
  (void)Publish(running, "starting");
  Status started = StartAll(&running);
  if (!started.ok()) {
    log_.Error("start failed", {{"error", started.ToString()}});
    StopAll(&running);
    (void)Publish(running, "failed", started.ToString());
    return started;
  }
  RETURN_IF_ERROR(Publish(running, "ready"));
  log_.Info("stack ready", {{"url", options_.url}});

  while (true) {
    struct timespec tick = {0, 200 * 1000 * 1000};
    siginfo_t info;
    int sig = ::sigtimedwait(&handled, &info, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      log_.Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      break;
    }
    if (sig == SIGHUP) {
      log_.Info("reload requested (SIGHUP)");
      Reload(&running);
    }
    // A hold ends without a SIGHUP when its holder dies (a crashed `auri restore --in-place`).
    for (auto& r : running) {
      if (!r.held || (r.spec->held && r.spec->held())) continue;
      r.held = false;
      log_.Warn("hold ended without a release (its holder is gone); starting",
                {{"name", r.spec->name}});
      StartNow(&r);
      (void)Publish(running, "ready");
    }
    // An adopted process is not our child: no SIGCHLD, so look for it.
    for (auto& r : running) {
      if (!r.adopted || r.pid <= 0 || ProcessAlive(r.pid)) continue;
      r.last_exit = "adopted process exited";
      r.pid = -1;
      r.adopted = false;
      r.restart_at = SteadyClock::now() + r.backoff;
      log_.Warn("component exited; restarting",
                {{"name", r.spec->name},
                 {"exit", r.last_exit},
                 {"restart_in_ms", static_cast<int64_t>(r.backoff.count())}});
      r.backoff = std::min(r.backoff * 2, options_.max_backoff);
      (void)Publish(running, "ready");
    }
    // Reap every exited child (SIGCHLD may coalesce), then schedule restarts.
    while (true) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      for (auto& r : running) {
        if (r.pid != pid) continue;
        r.last_exit = DescribeWaitStatus(status);
        r.pid = -1;
        // A component that ran long enough is considered healthy again: restart quickly.
        if (SteadyClock::now() - r.started > options_.stable_after) r.backoff = milliseconds(500);
        r.restart_at = SteadyClock::now() + r.backoff;
        log_.Warn("component exited; restarting",
                  {{"name", r.spec->name},
                   {"exit", r.last_exit},
                   {"restart_in_ms", static_cast<int64_t>(r.backoff.count())}});
        r.backoff = std::min(r.backoff * 2, options_.max_backoff);
        (void)Publish(running, "ready");
      }
    }
    for (auto& r : running) {
      if (r.pid > 0 || r.held || SteadyClock::now() < r.restart_at) continue;
      if (r.spec->held && r.spec->held()) {
        // Held while it was down (e.g. it crashed during an in-place restore): keep it down.
        r.held = true;
        r.last_exit = "held (stopped on request)";
        (void)Publish(running, "ready");
        continue;
      }
      pid_t adopted = r.spec->adopt ? r.spec->adopt() : -1;
      if (adopted > 0) {
        r.pid = adopted;
        r.adopted = true;
        r.started = SteadyClock::now();
        ++r.restarts;
        log_.Info("component adopted", {{"name", r.spec->name},
                                        {"pid", static_cast<int64_t>(r.pid)},
                                        {"restarts", r.restarts}});
        (void)Publish(running, "ready");
        continue;
      }
      auto pid = r.spec->start();
      if (!pid.ok()) {
        log_.Error("restart failed", {{"name", r.spec->name}, {"error", pid.status().ToString()}});
        r.restart_at = SteadyClock::now() + r.backoff;
        r.backoff = std::min(r.backoff * 2, options_.max_backoff);
        continue;
      }
      r.pid = *pid;
      r.started = SteadyClock::now();
      ++r.restarts;
      log_.Info(
          "component restarted",
          {{"name", r.spec->name}, {"pid", static_cast<int64_t>(r.pid)}, {"restarts", r.restarts}});
      (void)Publish(running, "ready");
    }
  }
  (void)Publish(running, "stopping");
  StopAll(&running);
  ::unlink(options_.state_file.c_str());
  log_.Info("stack stopped");
  return Status::Ok();
}

}  // namespace auri
