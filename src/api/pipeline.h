#pragma once
// The request handler layer of the server (Beast's "handle_request"): takes a whole parsed request,
// returns a whole response, never sees a socket. Runs the middleware around the router:
//
//   request id → CORS preflight → route match → authenticate (routes marked `authenticated`) →
//   rate limit (routes marked `rate_limited`) → handler (exceptions → 500) → security + CORS
//   headers → X-Request-ID → access log line → metrics
//
// Metrics (created in the registry by the constructor; create at most one pipeline per registry):
//   auri_http_requests_total{route,method,status}    counter
//   auri_http_request_duration_seconds{route}        histogram
//   auri_http_requests_in_flight                     gauge
//   auri_process_resident_memory_bytes               gauge
// `route` is the matched pattern ("/api/v1/triggers/{id}") or "unmatched", and `method` is one of
// the standard methods or "OTHER", so label cardinality is bounded whatever clients send.
//
// Thread-safe: Handle and Reject may be called concurrently from every I/O thread.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <variant>
#include <vector>

#include "api/http.h"
#include "api/middleware.h"
#include "api/router.h"

namespace auri {
class CounterFamily;
class HistogramFamily;
class Logger;
class MetricsRegistry;
}  // namespace auri

namespace auri::api {

// The verdict of the rate limiter for one request: the X-RateLimit-* values to send, and whether
// the request may proceed (else 429 rate_limited with Retry-After).
struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;        // X-RateLimit-Limit: requests per hour for this identity
  int64_t remaining = 0;    // X-RateLimit-Remaining
  int64_t reset_unix = 0;   // X-RateLimit-Reset: unix seconds when the oldest bucket leaves
  int64_t retry_after = 0;  // seconds; sent as Retry-After when !allowed
};

// The security steps, supplied by whoever wires the gateway (src/cli); both may be empty.
struct PipelineHooks {
  // Establishes request.caller for routes with `authenticated`, or returns the error response.
  // When empty, every authenticated route answers 401 (fail closed).
  std::function<std::variant<Caller, HttpResponse>(const HttpRequest&)> authenticate;
  // Counts the request against its identity (request.caller, or the client IP) for routes with
  // `rate_limited`. When empty, nothing is limited.
  std::function<RateDecision(const HttpRequest&, const Route&)> rate_limit;
};

struct PipelineOptions {
  std::vector<std::string> cors_origins;  // Config::Api::cors_origins
  PipelineHooks hooks;
};

class RequestPipeline {
 public:
  // Registers the metrics above in `metrics`. `logger` and `metrics` are not owned and must outlive
  // the pipeline; the gauges registered here stay valid after the pipeline is destroyed.
  RequestPipeline(Router router, PipelineOptions options, const Logger& logger,
                  MetricsRegistry& metrics);
  ~RequestPipeline();

  // Answers one complete request. `request` must have method, target/path/query, headers, body and
  // client_ip set; request_id and path_params are filled in here. Never throws.
  HttpResponse Handle(HttpRequest& request) const;

  // For a request the server could not read completely (too large, malformed): gives `error` the
  // same headers as any response, logs and counts it under route "unmatched". `request` holds
  // whatever was parsed (at least client_ip). Never throws.
  HttpResponse Reject(HttpRequest& request, HttpResponse error) const;

  const Router& router() const { return router_; }

 private:
  void Finish(HttpRequest& request, HttpResponse* response, const Route* route,
              std::chrono::steady_clock::time_point start) const;

  // Authentication and rate limiting for `route`; nullopt means go on to the handler.
  std::optional<HttpResponse> Guard(const Route& route, HttpRequest& request) const;

  Router router_;
  CorsPolicy cors_;
  PipelineHooks hooks_;
  const Logger& logger_;
  CounterFamily* requests_total_;
  HistogramFamily* request_duration_;
  // Shared with the gauge callback, which the registry may call after the pipeline is gone.
  std::shared_ptr<std::atomic<int64_t>> in_flight_;
};

}  // namespace auri::api
