// `auri up`, `auri supervise`, `auri down`, `auri status`: the embedded local stack.
//
// `auri up` starts a detached `auri supervise` process and waits (bounded) until the run file says
// the stack is ready. The supervisor owns the children: PostgreSQL (as the postgres user when we
// are root), Redis without persistence, the api-gateway, the event-processor, the action-workers
// and the dr-agent; it restarts a crashed child with backoff. `auri down` signals the supervisor,
// which stops the children in reverse order.
//
// The stack's PostgreSQL can change under a running supervisor (spec 40-dr.md, restore):
// `auri restore --switch` records a restored instance as the stack's database
// (config/active_database.h) and sends SIGHUP; the supervisor reloads the configuration, stops
// the old cluster (its data directory stays on disk) and adopts the restored server, which it
// supervises from then on (`auri status` shows it, `auri down` stops it). `auri restore
// --in-place --force` holds PostgreSQL stopped (<home>/run/postgres.hold + SIGHUP) while it
// replaces the data directory, then releases it.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <list>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/context.h"
#include "cli/event_processor_component.h"
#include "cli/exit_codes.h"
#include "common/clock.h"
#include "common/fs.h"
#include "dr/agent/schedule.h"
#include "dr/status/dr_status.h"
#include "stack/net_probe.h"
#include "stack/postgres_server.h"
#include "stack/process.h"
#include "stack/redis_server.h"
#include "stack/stack_control.h"
#include "stack/stack_state.h"
#include "stack/supervisor.h"
#include "store/migrations.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string StateFile(const Config& c) { return c.RunDir() + "/stack.json"; }

PostgresServer MakePostgres(const Config& c) {
  PostgresServerOptions o;
  o.bin_dir = c.postgres.bin_dir;
  o.data_dir = c.PostgresDataDir();
  o.socket_dir = c.PostgresSocketDir();
  o.log_file = c.LogDir() + "/postgres.log";
  o.host = c.postgres.host;
  o.port = c.postgres.port;
  o.run_as = c.postgres.run_as;
  o.superuser = c.postgres.user;
  o.settings = BackupArchivingSettings(c);  // continuous WAL archiving (cmd_backup.cc)
  return PostgresServer(o);
}

RedisServer MakeRedis(const Config& c) {
  RedisServerOptions o;
  o.server_bin = c.redis.server_bin;
  o.host = c.redis.host;
  o.port = c.redis.port;
  o.dir = c.home + "/redis";
  o.log_file = c.LogDir() + "/redis.log";
  return RedisServer(o);
}

// Polls GET /health until it answers 200 (healthy or degraded), failing fast if the child exits.
Status WaitForGateway(const Config& c, pid_t pid, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto r = HttpGet(c.api.host, c.api.port, "/health", milliseconds(1000));
    if (r.ok() && r->status == 200) return Status::Ok();
    auto exited = WaitForExit(pid, milliseconds(0));
    if (exited.ok()) {
      return Unavailable("api-gateway " + DescribeWaitStatus(*exited) + "; last lines of " +
                             c.LogDir() + "/api-gateway.log:\n" +
                             TailOfFile(c.LogDir() + "/api-gateway.log", 8),
                         "is api.port " + std::to_string(c.api.port) + " already in use?");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded(
          "api-gateway did not report healthy within " + std::to_string(timeout.count()) + " ms" +
          (r.ok() ? " (last answer: HTTP " + std::to_string(r->status) + ")" : ""));
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
}

void PrintReady(const Config& c, const StackState& s, double seconds_taken) {
  std::printf("auri is up (%.1f s)\n", seconds_taken);
  for (const auto& comp : s.components) {
    std::printf("  %-12s pid %-7d port %d\n", comp.name.c_str(), comp.pid, comp.port);
  }
  std::printf(
      "\nURL: %s\nTry:\n  curl -s %s/health\n\nLogs: %s/   Stop: make down (or auri down)\n",
      s.url.c_str(), s.url.c_str(), c.LogDir().c_str());
}

// The stack's PostgreSQL as a supervised component, built from `c` (which must outlive it). A
// reload after `auri restore --switch` builds another one from the reloaded configuration.
ComponentSpec PostgresComponent(const CliContext& ctx, const Config& c) {
  auto postgres = std::make_shared<PostgresServer>(MakePostgres(c));
  milliseconds stop_timeout = seconds(c.supervisor.stop_timeout_seconds);
  ComponentSpec spec{
      "postgres", c.postgres.port, [postgres] { return postgres->Start(SIGINT); },
      [postgres, &ctx](pid_t pid, milliseconds t) {
        RETURN_IF_ERROR(postgres->WaitReady(pid, t));
        (void)WakeCheckpointer(postgres->Dsn("postgres"));  // archive_timeout from now on
        // The commit scan of `auri dr status` (RPO exposure in seconds). Not fatal: without it
        // the exposure is reported as an upper bound, and dr status tries again.
        Status scanner = dr::EnsureCommitScanner(postgres->Dsn("postgres"));
        if (!scanner.ok()) {
          ctx.log.Warn("pg_walinspect not created", {{"error", scanner.ToString()}});
        }
        return Status::Ok();
      },
      // Not necessarily our child (an adopted server): wait by polling, which also reaps a child.
      [stop_timeout](pid_t pid) { return StopProcess(pid, SIGINT, stop_timeout, false); },
      [postgres, &c, &ctx]() -> Status {
        RETURN_IF_ERROR(postgres->EnsureDatabase(c.postgres.database));
        auto report = ApplyMigrations(c.DatabaseDsn(), ctx.log);
        if (!report.ok()) return report.status();
        return PrepareBackupRepositories(c);
      }};
  // A server already running on the data directory (the restored instance `auri restore
  // --switch` started) is supervised as it is: no restart, no second outage.
  spec.adopt = [postgres] { return ReadyPostmasterPid(postgres->options().data_dir); };
  spec.held = [run_dir = c.RunDir()] { return ComponentHeld(run_dir, "postgres"); };
  // pgbackrest.conf names the cluster's data directory and port; rewrite it for this one before
  // it runs (the old cluster has stopped by then, so its last archive pushes used the old file).
  spec.before_start = [&c] { return PrepareBackupConfiguration(c); };
  return spec;
}

// Polls GET /health on 127.0.0.1:port until 200, failing fast if the child exits.
Status WaitForHealthEndpoint(const std::string& name, const std::string& log, int port, pid_t pid,
                             milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto r = HttpGet("127.0.0.1", port, "/health", milliseconds(500));
    if (r.ok() && r->status == 200) return Status::Ok();
    auto exited = WaitForExit(pid, milliseconds(0));
    if (exited.ok()) {
      return Unavailable(name + " " + DescribeWaitStatus(*exited) + "; last lines of " + log +
                         ":\n" + TailOfFile(log, 8));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded(name + " did not answer /health on port " + std::to_string(port) +
                              " within " + std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
}

bool DrAgentRuns(const Config& c) { return c.backup.enabled && c.EmbeddedPostgres(); }

}  // namespace

int RunSupervise(const CliContext& ctx) {
  const Config& c = ctx.config;
  Status dirs = MakeDirectories(c.RunDir(), 0755);
  if (dirs.ok()) dirs = MakeDirectories(c.LogDir(), 0755);
  if (!dirs.ok()) return ReportFailure(dirs);
  Status secrets = PrepareSecrets(c);
  if (!secrets.ok()) return ReportFailure(secrets.WithContext("preparing secrets"));
  Status backups = PrepareBackupConfiguration(c);
  if (!backups.ok()) return ReportFailure(backups.WithContext("preparing backups"));
  if (DrAgentRuns(c)) {
    for (const auto& [key, text] : {std::pair{"backup.full_schedule", c.backup.full_schedule},
                                    std::pair{"backup.incr_schedule", c.backup.incr_schedule}}) {
      auto schedule = dr::Schedule::Parse(text);
      if (!schedule.ok()) {
        return ReportFailure(schedule.status().WithContext(std::string("option ") + key));
      }
    }
  }

  // Fail early and clearly when a port is taken, rather than talking to somebody else's server.
  std::vector<std::pair<Status, bool>> port_checks = {
      {CheckPortFree(c.postgres.host, c.postgres.port, "postgres.port"), c.EmbeddedPostgres()},
      {CheckPortFree(c.redis.host, c.redis.port, "redis.port"), c.EmbeddedRedis()},
      {CheckPortFree(c.api.host, c.api.port, "api.port"), true},
      {CheckPortFree(c.processor.host, c.processor.metrics_port, "processor.metrics_port"), true},
      {CheckPortFree(c.dr_agent.host, c.dr_agent.metrics_port, "dr_agent.metrics_port"),
       DrAgentRuns(c)}};
  for (const auto& [status, applies] : port_checks) {
    if (applies && !status.ok()) {
      StackState failed;
      failed.supervisor_pid = ::getpid();
      failed.state = "failed";
      failed.error = status.ToString();
      (void)WriteStackState(StateFile(c), failed);
      return ReportFailure(status);
    }
  }

  std::vector<ComponentSpec> components;
  auto redis = std::make_shared<RedisServer>(MakeRedis(c));
  milliseconds stop_timeout = seconds(c.supervisor.stop_timeout_seconds);
  // A crashed `auri restore --in-place` may have left a hold file: holds count only while their
  // holder lives, but a fresh start owes nothing to an old one.
  (void)ReleaseComponent(c.RunDir(), "postgres");

  if (c.EmbeddedPostgres()) {
    PostgresServer postgres = MakePostgres(c);
    Status init = postgres.InitIfNeeded(seconds(120));
    if (!init.ok()) return ReportFailure(init);
    components.push_back(PostgresComponent(ctx, c));
  } else {
    auto report = ApplyMigrations(c.DatabaseDsn(), ctx.log);
    if (!report.ok()) return ReportFailure(report.status());
  }
  if (c.EmbeddedRedis()) {
    components.push_back(
        {"redis", c.redis.port, [redis] { return redis->Start(SIGTERM); },
         [redis](pid_t pid, milliseconds t) { return redis->WaitReady(pid, t); },
         [redis, stop_timeout](pid_t pid) { return redis->Stop(pid, stop_timeout); }, nullptr});
  }
  std::string gateway_log = c.LogDir() + "/api-gateway.log";
  milliseconds gateway_stop = seconds(c.api.shutdown_timeout_seconds + 5);
  components.push_back(
      {"api-gateway", c.api.port,
       [&ctx, gateway_log]() {
         SpawnOptions spawn;
         spawn.argv = {ctx.self_exe};
         spawn.argv.insert(spawn.argv.end(), ctx.config_args.begin(), ctx.config_args.end());
         spawn.argv.push_back("api-gateway");
         spawn.log_file = gateway_log;
         spawn.parent_death_signal = SIGTERM;
         return Spawn(spawn);
       },
       [&c](pid_t pid, milliseconds t) { return WaitForGateway(c, pid, t); },
       [gateway_stop](pid_t pid) { return StopProcess(pid, SIGTERM, gateway_stop, true); },
       nullptr});
  // The event-processor (issue 4): evaluates queued events, writes action jobs.
  components.push_back(EventProcessorComponent(ctx));

  // --- action-workers (delivery; spec 30-delivery.md) ---
  // Ready when its metrics endpoint answers /health (or, without one, when it is still running
  // after a moment). Stop: SIGTERM, then up to the shutdown grace + lease release.
  std::string workers_log = c.LogDir() + "/action-workers.log";
  components.push_back(
      {"action-workers", c.delivery.metrics_port,
       [&ctx, workers_log]() {
         SpawnOptions spawn;
         spawn.argv = {ctx.self_exe};
         spawn.argv.insert(spawn.argv.end(), ctx.config_args.begin(), ctx.config_args.end());
         spawn.argv.push_back("action-workers");
         spawn.log_file = workers_log;
         spawn.parent_death_signal = SIGTERM;
         return Spawn(spawn);
       },
       [&c, workers_log](pid_t pid, milliseconds t) -> Status {
         auto start = std::chrono::steady_clock::now();
         auto deadline = start + t;
         while (true) {
           if (c.delivery.metrics_port != 0) {
             auto r = HttpGet("127.0.0.1", c.delivery.metrics_port, "/health", milliseconds(500));
             if (r.ok() && r->status == 200) return Status::Ok();
           }
           auto exited = WaitForExit(pid, milliseconds(0));
           if (exited.ok()) {
             return Unavailable("action-workers " + DescribeWaitStatus(*exited) +
                                "; last lines of " + workers_log + ":\n" +
                                TailOfFile(workers_log, 8));
           }
           if (c.delivery.metrics_port == 0 &&
               std::chrono::steady_clock::now() - start > std::chrono::seconds(1)) {
             return Status::Ok();
           }
           if (std::chrono::steady_clock::now() >= deadline) {
             return DeadlineExceeded("action-workers did not answer /health in time");
           }
           std::this_thread::sleep_for(milliseconds(100));
         }
       },
       [](pid_t pid) { return StopProcess(pid, SIGTERM, seconds(15), true); }, nullptr});
  // --- end action-workers ---

  // The dr-agent (spec 40-dr.md): scheduled backups, their verification, retention, DR metrics.
  // Stopped first: a backup in progress is abandoned (pgBackRest cleans it up on the next run).
  if (DrAgentRuns(c)) {
    std::string agent_log = c.LogDir() + "/dr-agent.log";
    components.push_back(
        {"dr-agent", c.dr_agent.metrics_port,
         [&ctx, agent_log]() {
           SpawnOptions spawn;
           spawn.argv = {ctx.self_exe};
           spawn.argv.insert(spawn.argv.end(), ctx.config_args.begin(), ctx.config_args.end());
           spawn.argv.push_back("dr-agent");
           spawn.log_file = agent_log;
           spawn.parent_death_signal = SIGTERM;
           return Spawn(spawn);
         },
         [&c, agent_log](pid_t pid, milliseconds t) {
           return WaitForHealthEndpoint("dr-agent", agent_log, c.dr_agent.metrics_port, pid, t);
         },
         [](pid_t pid) { return StopProcess(pid, SIGTERM, seconds(20), true); }, nullptr});
  }

  // Configurations of the stack's database after a switch; the postgres spec refers into it.
  std::list<Config> reloaded;
  const Config* database_config = &c;

  SupervisorOptions options;
  options.state_file = StateFile(c);
  options.url = c.ApiBaseUrl();
  options.start_timeout = seconds(c.supervisor.start_timeout_seconds);
  options.max_backoff = seconds(c.supervisor.max_restart_backoff_seconds);
  // SIGHUP from `auri restore --switch`: when the recorded database moved, supervise the new one.
  options.reload = [&]() -> std::vector<ComponentSpec> {
    if (!c.EmbeddedPostgres()) return {};
    auto fresh = LoadConfig(ctx.config_sources);
    if (!fresh.ok()) {
      ctx.log.Error("reload: cannot load the configuration; keeping the current database",
                    {{"error", fresh.status().ToString()}});
      return {};
    }
    if (fresh->PostgresDataDir() == database_config->PostgresDataDir() &&
        fresh->postgres.port == database_config->postgres.port) {
      return {};
    }
    ctx.log.Info("the stack's database moved", {{"from", database_config->PostgresDataDir()},
                                                {"to", fresh->PostgresDataDir()},
                                                {"port", fresh->postgres.port},
                                                {"instance", fresh->postgres.active_instance}});
    reloaded.push_back(std::move(fresh).value());
    database_config = &reloaded.back();
    return {PostgresComponent(ctx, *database_config)};
  };
  Supervisor supervisor(std::move(components), options, ctx.log);
  Status s = supervisor.Run();
  return s.ok() ? kExitOk : ReportFailure(s);
}

int RunUp(const CliContext& ctx, const UpOptions& options) {
  const Config& c = ctx.config;
  auto t0 = std::chrono::steady_clock::now();
  auto existing = ReadStackState(StateFile(c));
  if (existing.ok() && ProcessAlive(existing->supervisor_pid) && existing->state == "ready") {
    std::printf("auri is already running (supervisor pid %d)\nURL: %s\nTry:\n  curl -s %s/health\n",
                existing->supervisor_pid, existing->url.c_str(), existing->url.c_str());
    return kExitOk;
  }
  if (existing.ok() && !ProcessAlive(existing->supervisor_pid)) {
    // A supervisor that was killed: its children received their parent-death signal, but make sure.
    for (const auto& comp : existing->components) {
      if (ProcessAlive(comp.pid)) (void)StopProcess(comp.pid, SIGTERM, seconds(10), false);
    }
    ::unlink(StateFile(c).c_str());
  }
  if (options.foreground) return RunSupervise(ctx);

  Status dirs = MakeDirectories(c.RunDir(), 0755);
  if (dirs.ok()) dirs = MakeDirectories(c.LogDir(), 0755);
  if (!dirs.ok()) return ReportFailure(dirs);
  pid_t supervisor_pid = -1;
  if (!(existing.ok() && ProcessAlive(existing->supervisor_pid))) {
    SpawnOptions spawn;
    spawn.argv = {ctx.self_exe};
    spawn.argv.insert(spawn.argv.end(), ctx.config_args.begin(), ctx.config_args.end());
    spawn.argv.push_back("supervise");
    spawn.log_file = c.LogDir() + "/supervisor.log";
    spawn.new_session = true;  // survives the terminal that ran `make up`
    auto pid = Spawn(spawn);
    if (!pid.ok()) return ReportFailure(pid.status());
    supervisor_pid = *pid;
    std::printf("starting auri in %s (logs in %s/) ...\n", c.home.c_str(), c.LogDir().c_str());
    std::fflush(stdout);
  } else {
    supervisor_pid = existing->supervisor_pid;
  }

  auto deadline = t0 + seconds(c.supervisor.start_timeout_seconds + 10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto state = ReadStackState(StateFile(c));
    if (state.ok() && state->supervisor_pid == supervisor_pid) {
      if (state->state == "ready") {
        PrintReady(c, *state, SecondsSince(t0));
        return kExitOk;
      }
      if (state->state == "failed") {
        // It is exiting after stopping what it started; reap it so nothing is left behind.
        (void)WaitForExit(supervisor_pid, seconds(c.supervisor.stop_timeout_seconds * 3));
        return ReportFailure(Unavailable("auri did not start: " + state->error,
                                         "see " + c.LogDir() + "/supervisor.log"));
      }
    }
    auto exited = WaitForExit(supervisor_pid, milliseconds(0));
    if (exited.ok()) {
      return ReportFailure(Unavailable("the supervisor " + DescribeWaitStatus(*exited) +
                                           "; last lines of its log:\n" +
                                           TailOfFile(c.LogDir() + "/supervisor.log", 12),
                                       "fix the cause above and run `make up` again"));
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return ReportFailure(
      DeadlineExceeded("auri did not become ready within " +
                           std::to_string(c.supervisor.start_timeout_seconds + 10) + " s",
                       "see " + c.LogDir() +
                           "/supervisor.log; `auri down` stops "
                           "what was started"));
}

int RunDown(const CliContext& ctx) {
  const Config& c = ctx.config;
  auto state = ReadStackState(StateFile(c));
  if (!state.ok()) {
    if (state.status().code() == StatusCode::kNotFound) {
      std::printf("auri is not running (no %s)\n", StateFile(c).c_str());
      return kExitOk;
    }
    return ReportFailure(state.status());
  }
  auto t0 = std::chrono::steady_clock::now();
  if (ProcessAlive(state->supervisor_pid)) {
    std::printf("stopping auri (supervisor pid %d) ...\n", state->supervisor_pid);
    std::fflush(stdout);
    // The supervisor stops each child with its own deadline; allow for all of them.
    milliseconds budget = seconds(3 * c.supervisor.stop_timeout_seconds + 10);
    Status s = StopProcess(state->supervisor_pid, SIGTERM, budget, false);
    if (!s.ok()) return ReportFailure(s);
  }
  // Whatever is left (supervisor killed earlier, or it gave up): stop it directly.
  for (const auto& comp : state->components) {
    if (comp.pid > 0 && ProcessAlive(comp.pid)) {
      std::printf("  %s (pid %d) was still running; stopping it\n", comp.name.c_str(), comp.pid);
      int sig = comp.name == "postgres" ? SIGINT : SIGTERM;
      Status s = StopProcess(comp.pid, sig, seconds(c.supervisor.stop_timeout_seconds), false);
      if (!s.ok()) return ReportFailure(s);
    }
  }
  ::unlink(StateFile(c).c_str());
  std::printf("auri stopped (%.1f s); data kept in %s\n", SecondsSince(t0), c.home.c_str());
  return kExitOk;
}

int RunStatus(const CliContext& ctx) {
  const Config& c = ctx.config;
  auto state = ReadStackState(StateFile(c));
  nlohmann::json out;
  if (!state.ok()) {
    if (state.status().code() != StatusCode::kNotFound) return ReportFailure(state.status());
    out = {{"running", false}, {"home", c.home}, {"components", nlohmann::json::array()}};
    if (ctx.json) {
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      std::printf("auri is not running (home %s)\n", c.home.c_str());
    }
    return kExitCheckFailed;
  }
  bool supervisor_alive = ProcessAlive(state->supervisor_pid);
  bool all_healthy = supervisor_alive;
  out["running"] = supervisor_alive;
  out["state"] = state->state;
  out["url"] = state->url;
  out["supervisor_pid"] = state->supervisor_pid;
  out["components"] = nlohmann::json::array();
  for (const auto& comp : state->components) {
    bool alive = ProcessAlive(comp.pid);
    bool healthy = false;
    std::string detail;
    if (alive && comp.name == "postgres") {
      healthy = PostgresAcceptsConnections(c.postgres.host, comp.port, 2);
    } else if (alive && comp.name == "redis") {
      healthy = RedisAnswersPing(c.redis.host, comp.port, milliseconds(1000));
    } else if (alive && comp.name == "api-gateway") {
      auto r = HttpGet(c.api.host, comp.port, "/health", milliseconds(2000));
      healthy = r.ok() && r->status == 200;
      if (r.ok()) {
        auto j = nlohmann::json::parse(r->body, nullptr, false);
        if (!j.is_discarded() && j.contains("status")) detail = j["status"].get<std::string>();
      }
    } else if (alive && comp.name == "event-processor") {
      healthy = EventProcessorHealthy(c, comp.port, &detail);
    } else if (alive && comp.name == "dr-agent") {
      auto r = HttpGet("127.0.0.1", comp.port, "/health", milliseconds(2000));
      healthy = r.ok() && r->status == 200;
    } else if (alive && comp.name == "action-workers") {
      // Its metrics endpoint answers /health; without one (port 0), running is all we know.
      healthy = comp.port == 0 || [&] {
        auto r = HttpGet("127.0.0.1", comp.port, "/health", milliseconds(2000));
        return r.ok() && r->status == 200;
      }();
    }
    all_healthy = all_healthy && healthy;
    out["components"].push_back({{"name", comp.name},
                                 {"pid", comp.pid},
                                 {"port", comp.port},
                                 {"running", alive},
                                 {"healthy", healthy},
                                 {"detail", detail},
                                 {"restarts", comp.restarts},
                                 {"last_exit", comp.last_exit}});
  }
  out["healthy"] = all_healthy;
  if (ctx.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("auri %s (supervisor pid %d, state %s) %s\n",
                supervisor_alive ? "running" : "NOT running", state->supervisor_pid,
                state->state.c_str(), state->url.c_str());
    for (const auto& comp : out["components"]) {
      std::string health = comp["healthy"].get<bool>() ? "healthy" : "UNHEALTHY";
      if (!comp["detail"].get<std::string>().empty()) {
        health += " (" + comp["detail"].get<std::string>() + ")";
      }
      std::printf("  %-12s pid %-7d port %-6d %s restarts %d%s\n",
                  comp["name"].get<std::string>().c_str(), comp["pid"].get<int>(),
                  comp["port"].get<int>(), health.c_str(), comp["restarts"].get<int>(),
                  comp["last_exit"].get<std::string>().empty()
                      ? ""
                      : (", last exit: " + comp["last_exit"].get<std::string>()).c_str());
    }
  }
  return all_healthy ? kExitOk : kExitCheckFailed;
}

}  // namespace auri
