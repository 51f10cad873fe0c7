#pragma once
// Tiny loopback probes used to check that a component answers (Redis PING, HTTP GET /health),
// without pulling the full clients into the supervisor. Every call has a deadline.
#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"

namespace auri {

// Connects to host:port, sends `request`, and reads until the peer closes, `complete(buffer)`
// returns true, or `max_bytes` were read. The whole exchange must fit in `timeout`.
// Errors: kUnavailable (connect refused/reset), kDeadlineExceeded.
Result<std::string> TcpExchange(const std::string& host, int port, const std::string& request,
                                std::chrono::milliseconds timeout,
                                const std::function<bool(const std::string&)>& complete = nullptr,
                                size_t max_bytes = 1 << 20);

// True when a Redis server at host:port answers PING with PONG within `timeout`.
bool RedisAnswersPing(const std::string& host, int port, std::chrono::milliseconds timeout);

// The pid of the Redis server answering at host:port (INFO server → process_id), so a caller can
// tell its own server from another one that holds the port. Errors as TcpExchange; kInternal when
// the answer has no process_id.
Result<long> RedisServerPid(const std::string& host, int port, std::chrono::milliseconds timeout);

// OK when host:port can be bound right now. kUnavailable naming `option` (e.g. "postgres.port")
// when another process holds it, so a start fails with a clear message instead of talking to
// somebody else's server.
Status CheckPortFree(const std::string& host, int port, const std::string& option);

struct HttpProbeResult {
  int status = 0;
  std::string body;
};

// GET `path` over HTTP/1.1 with Connection: close. Errors as TcpExchange, plus kInternal when the
// answer is not HTTP.
Result<HttpProbeResult> HttpGet(const std::string& host, int port, const std::string& path,
                                std::chrono::milliseconds timeout);

}  // namespace auri
