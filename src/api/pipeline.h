#pragma once
// The request handler layer of the server (Beast's "handle_request"): takes a whole parsed request,
// returns a whole response, never sees a socket. Runs the middleware around the router:
//
//   request id → CORS preflight → router (handler exceptions → 500) → security + CORS headers →
//   X-Request-ID → access log line → metrics
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
#include <memory>
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

struct PipelineOptions {
  std::vector<std::string> cors_origins;  // Config::Api::cors_origins
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

  Router router_;
  CorsPolicy cors_;
  const Logger& logger_;
  CounterFamily* requests_total_;
  HistogramFamily* request_duration_;
  // Shared with the gauge callback, which the registry may call after the pipeline is gone.
  std::shared_ptr<std::atomic<int64_t>> in_flight_;
};

}  // namespace auri::api
