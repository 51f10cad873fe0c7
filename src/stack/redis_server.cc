#include "stack/redis_server.h"

#include <signal.h>

#include <thread>

#include "common/fs.h"
#include "stack/net_probe.h"
#include "stack/postgres_server.h"
#include "stack/process.h"

namespace auri {

Result<pid_t> RedisServer::Start(int parent_death_signal) {
  const auto& o = options_;
  RETURN_IF_ERROR(MakeDirectories(o.dir, 0755));
  SpawnOptions spawn;
  spawn.argv = {o.server_bin,
                "--bind",
                o.host,
                "--port",
                std::to_string(o.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                o.dir,
                "--protected-mode",
                "yes",
                "--loglevel",
                "notice"};
  spawn.log_file = o.log_file;
  spawn.parent_death_signal = parent_death_signal;
  return Spawn(spawn);
}

Status RedisServer::WaitReady(pid_t pid, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // The answering server must be ours (same pid), not another Redis holding the port.
    auto answering = RedisServerPid(options_.host, options_.port, std::chrono::milliseconds(300));
    if (answering.ok() && *answering == static_cast<long>(pid)) return Status::Ok();
    auto exited = WaitForExit(pid, std::chrono::milliseconds(0));
    if (exited.ok()) {
      return Unavailable("redis on port " + std::to_string(options_.port) + " " +
                             DescribeWaitStatus(*exited) + "; last lines of " + options_.log_file +
                             ":\n" + TailOfFile(options_.log_file, 8),
                         "is the port already in use? set redis.port to a free one");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded("redis on port " + std::to_string(options_.port) +
                              " did not answer PING within " + std::to_string(timeout.count()) +
                              " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status RedisServer::Stop(pid_t pid, std::chrono::milliseconds timeout) const {
  return StopProcess(pid, SIGTERM, timeout, /*is_child=*/true);
}

}  // namespace auri
