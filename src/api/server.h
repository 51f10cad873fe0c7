#pragma once
// The api-gateway's HTTP/1.1 server: Boost.Beast 1.74 in the shape of its example/advanced/server —
// a Listener that accepts, one Session per connection that reads a whole request under a deadline
// and writes the response, and the RequestPipeline (pipeline.h) that answers it without seeing the
// socket. Beast and Asio stay inside server.cc; this header is plain C++.
//
// Per connection: the whole request (header and body) must arrive within read_timeout_seconds
// (a stalled or slow client is disconnected, and the same deadline bounds an idle keep-alive
// connection); header ≤ header_limit_bytes (else 431 and close); body ≤ body_limit_bytes (else 413
// and close); malformed request → 400 and close; each response write has the same deadline.
// Requests on one connection are handled one at a time (pipelined requests wait in the buffer).
// Handlers run on the I/O threads (api.threads of them, sharing one io_context).
//
// Typical use (the CLI):
//   auri::api::Server server(config.api, logger, metrics, std::move(router));
//   RETURN_IF_ERROR(server.Start());
//   return server.RunUntilSignal();   // SIGINT/SIGTERM → graceful Stop
#include <chrono>
#include <memory>

#include "api/pipeline.h"
#include "api/router.h"
#include "common/status.h"
#include "config/config.h"

namespace auri {
class Logger;
class MetricsRegistry;
}  // namespace auri

namespace auri::api {

class Server {
 public:
  // `config` is copied. `logger` and `metrics` are not owned and must outlive the server; the HTTP
  // metrics are registered in `metrics` here (one Server per registry). api.port 0 binds an
  // ephemeral port (tests); see port(). `hooks` are the pipeline's authentication and rate
  // limiting steps (pipeline.h).
  Server(const Config::Api& config, const Logger& logger, MetricsRegistry& metrics, Router router,
         PipelineHooks hooks = {});
  // Stops the server (Stop with api.shutdown_timeout_seconds) if it is running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds api.host:api.port (SO_REUSEADDR), starts listening and the I/O threads, and returns.
  // Errors: kUnavailable when the address is in use or cannot be bound (with a hint);
  // kInvalidArgument when api.host does not resolve; kFailedPrecondition when already started.
  // A Server is started at most once.
  Status Start();

  // The bound port (the real one when api.port was 0); 0 before Start.
  int port() const;

  // Graceful shutdown: stops accepting, closes idle connections, lets requests in flight finish
  // and their responses be written (then closes those connections too), waiting at most
  // `deadline`; connections still open then are closed. Returns when the I/O threads have exited
  // (a handler still running past the deadline is waited for: handlers cannot be interrupted).
  // Returns OK when everything finished in time, kDeadlineExceeded when connections were cut off.
  // Idempotent; thread-safe. REQUIRES: not called from a request handler.
  Status Stop(std::chrono::milliseconds deadline);
  // Stop with api.shutdown_timeout_seconds.
  Status Stop();

  // Blocks until SIGINT or SIGTERM arrives (or Stop is called from another thread), then stops
  // gracefully with api.shutdown_timeout_seconds and returns Stop's status. While it waits, those
  // signals are handled by the server's io_context (asio::signal_set) instead of killing the
  // process. REQUIRES: Start succeeded.
  Status RunUntilSignal();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auri::api
