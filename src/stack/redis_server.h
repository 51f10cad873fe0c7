#pragma once
// RedisServer: the embedded Redis 7, run as a child with persistence OFF (the seed's
// "cache-only": nothing Auri must not lose is ever only in Redis, so there is nothing to save).
#include <sys/types.h>

#include <chrono>
#include <string>

#include "common/result.h"

namespace auri {

struct RedisServerOptions {
  std::string server_bin = "/usr/bin/redis-server";
  std::string host = "127.0.0.1";
  int port = 0;
  std::string dir;  // working directory (nothing is written there with persistence off)
  std::string log_file;
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options) : options_(std::move(options)) {}

  // Starts redis-server as a child; does not wait for readiness.
  Result<pid_t> Start(int parent_death_signal = 0);
  // Polls PING until PONG, at most `timeout`; fails fast with the log tail if the child exits.
  Status WaitReady(pid_t pid, std::chrono::milliseconds timeout) const;
  // SIGTERM, escalating to SIGKILL after `timeout`.
  Status Stop(pid_t pid, std::chrono::milliseconds timeout) const;

  const RedisServerOptions& options() const { return options_; }

 private:
  RedisServerOptions options_;
};

}  // namespace auri
