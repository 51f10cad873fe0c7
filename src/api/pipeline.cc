#include "api/pipeline.h"

#include <algorithm>
#include <exception>
#include <string>

#include "common/logging.h"
#include "common/metrics.h"

namespace auri::api {
namespace {

// Longest path written to the access log; the header limit already bounds it, this keeps one
// hostile request from producing a 16 KiB log line.
constexpr size_t kMaxLoggedPath = 256;

const std::string kUnmatched = "unmatched";

// Clients may send any token as a method; only the standard ones become label values.
std::string MethodLabel(const std::string& method) {
  static const char* const kKnown[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (const char* known : kKnown) {
    if (method == known) return method;
  }
  return "OTHER";
}

// Decrements the in-flight gauge however Handle leaves.
class InFlightScope {
 public:
  explicit InFlightScope(std::atomic<int64_t>* gauge) : gauge_(gauge) { gauge_->fetch_add(1); }
  ~InFlightScope() { gauge_->fetch_sub(1); }
  InFlightScope(const InFlightScope&) = delete;
  InFlightScope& operator=(const InFlightScope&) = delete;

 private:
  std::atomic<int64_t>* gauge_;
};

}  // namespace

RequestPipeline::RequestPipeline(Router router, PipelineOptions options, const Logger& logger,
                                 MetricsRegistry& metrics)
    : router_(std::move(router)),
      cors_(std::move(options.cors_origins)),
      hooks_(std::move(options.hooks)),
      logger_(logger),
      in_flight_(std::make_shared<std::atomic<int64_t>>(0)) {
  requests_total_ = metrics.AddCounter(
      "auri_http_requests_total", "HTTP requests answered, by route pattern, method and status.",
      {"route", "method", "status"});
  request_duration_ = metrics.AddHistogram(
      "auri_http_request_duration_seconds",
      "Time from a complete request to its response, by route pattern.", {"route"},
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  metrics.AddGauge("auri_http_requests_in_flight", "HTTP requests being handled now.",
                   [gauge = in_flight_] { return static_cast<double>(gauge->load()); });
  metrics.AddGauge("auri_process_resident_memory_bytes", "Resident memory of this process.",
                   [] { return ProcessResidentBytes(); });
}

RequestPipeline::~RequestPipeline() = default;

HttpResponse RequestPipeline::Handle(HttpRequest& request) const {
  auto start = std::chrono::steady_clock::now();
  InFlightScope in_flight(in_flight_.get());
  const Route* route = nullptr;
  HttpResponse response;
  try {
    request.request_id = ChooseRequestId(request.Header("X-Request-ID"));
    Router::Match match = router_.Find(request.method, request.path);
    route = match.route;
    if (cors_.IsPreflight(request) && (route || !match.allowed_methods.empty())) {
      response = cors_.Preflight(request);
    } else if (std::optional<HttpResponse> refused =
                   route ? Guard(*route, request) : std::nullopt) {
      response = std::move(*refused);
    } else {
      response = router_.Dispatch(match, request);
    }
  } catch (const std::exception& e) {
    // The client learns only that it failed and which id to quote; the cause goes to the log.
    logger_.Error("handler threw", {{"request_id", request.request_id},
                                    {"route", route ? route->pattern : kUnmatched},
                                    {"error", e.what()}});
    response = ErrorResponse(500, "internal_error", "internal error");
  } catch (...) {
    logger_.Error(
        "handler threw a non-standard exception",
        {{"request_id", request.request_id}, {"route", route ? route->pattern : kUnmatched}});
    response = ErrorResponse(500, "internal_error", "internal error");
  }
  Finish(request, &response, route, start);
  return response;
}

std::optional<HttpResponse> RequestPipeline::Guard(const Route& route, HttpRequest& request) const {
  if (route.authenticated) {
    if (!hooks_.authenticate) {
      return ErrorResponse(401, "unauthorized", "authentication is not configured");
    }
    auto outcome = hooks_.authenticate(request);
    if (auto* error = std::get_if<HttpResponse>(&outcome)) return std::move(*error);
    request.caller = std::get<Caller>(std::move(outcome));
  }
  // Limited after authentication, so the identity counted is the real one (spec 10-api.md).
  if (route.rate_limited && hooks_.rate_limit) {
    RateDecision decision = hooks_.rate_limit(request, route);
    auto add_headers = [&decision](HttpResponse* r) {
      r->headers.Set("X-RateLimit-Limit", std::to_string(decision.limit));
      r->headers.Set("X-RateLimit-Remaining", std::to_string(decision.remaining));
      r->headers.Set("X-RateLimit-Reset", std::to_string(decision.reset_unix));
    };
    if (!decision.allowed) {
      HttpResponse limited = ErrorResponse(429, "rate_limited", "rate limit exceeded, retry later");
      limited.headers.Set("Retry-After",
                          std::to_string(std::max<int64_t>(1, decision.retry_after)));
      add_headers(&limited);
      return limited;
    }
    // The handler's response gets the headers too: stash them on the request's way out.
    request.rate_headers = {std::to_string(decision.limit), std::to_string(decision.remaining),
                            std::to_string(decision.reset_unix)};
  }
  return std::nullopt;
}

HttpResponse RequestPipeline::Reject(HttpRequest& request, HttpResponse error) const {
  auto start = std::chrono::steady_clock::now();
  request.request_id = ChooseRequestId(request.Header("X-Request-ID"));
  Finish(request, &error, nullptr, start);
  return error;
}

void RequestPipeline::Finish(HttpRequest& request, HttpResponse* response, const Route* route,
                             std::chrono::steady_clock::time_point start) const {
  try {
    AddSecurityHeaders(response, route && route->authenticated);
    if (!request.rate_headers.empty() && !response->headers.Has("X-RateLimit-Limit")) {
      response->headers.Set("X-RateLimit-Limit", request.rate_headers[0]);
      response->headers.Set("X-RateLimit-Remaining", request.rate_headers[1]);
      response->headers.Set("X-RateLimit-Reset", request.rate_headers[2]);
    }
    cors_.Decorate(request, response);
    response->headers.Set("X-Request-ID", request.request_id);

    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string& label = route ? route->pattern : kUnmatched;
    requests_total_->Inc({label, MethodLabel(request.method), std::to_string(response->status)});
    request_duration_->Observe({label}, seconds);

    // The path only: query strings may carry secrets (tokens in links) and are never logged.
    std::string_view path = request.path;
    if (path.size() > kMaxLoggedPath) path = path.substr(0, kMaxLoggedPath);
    bool quiet = route && route->probe && response->status < 400;
    logger_.Log(quiet ? LogLevel::kDebug : LogLevel::kInfo, "http request",
                {{"method", request.method},
                 {"path", path},
                 {"route", label},
                 {"status", response->status},
                 {"duration_ms", seconds * 1000.0},
                 {"request_id", request.request_id},
                 {"client_ip", request.client_ip},
                 {"bytes_out", static_cast<uint64_t>(response->body.size())}});
  } catch (...) {
    // Only allocation failure can get here; the response itself is still worth sending.
  }
}

}  // namespace auri::api
