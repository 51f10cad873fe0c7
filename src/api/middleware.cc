#include "api/middleware.h"

#include <algorithm>
#include <cstdio>

#include "common/random.h"

namespace auri::api {
namespace {

constexpr std::string_view kAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr std::string_view kAllowHeaders =
    "Authorization, Content-Type, X-API-Key, X-Organization-ID, X-Request-ID";
// Headers a browser script may read from a response (rate-limit state and the id to quote in a
// support request); everything else stays hidden, as CORS intends.
constexpr std::string_view kExposeHeaders =
    "X-Request-ID, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";

}  // namespace

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string ChooseRequestId(std::optional<std::string_view> incoming) {
  if (incoming && IsSaneRequestId(*incoming)) return std::string(*incoming);
  return NewRequestId();
}

std::string NewRequestId() {
  // A request id only has to be unique, not unpredictable: a per-thread xorshift generator seeded
  // once from the kernel avoids a getrandom(2) call per request on the hot path.
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    while (seed == 0) RandomBytes(&seed, sizeof seed);
    return seed;
  }();
  auto next = [] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  uint64_t hi = next(), lo = next();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4 layout
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

void AddSecurityHeaders(HttpResponse* response, bool authenticated) {
  response->headers.Set("X-Content-Type-Options", "nosniff");
  response->headers.Set("X-Frame-Options", "DENY");
  response->headers.Set("Referrer-Policy", "strict-origin-when-cross-origin");
  if (authenticated) response->headers.Set("Cache-Control", "no-store");
}

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins)
    : origins_(std::move(allowed_origins)) {
  any_origin_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool CorsPolicy::OriginAllowed(std::string_view origin) const {
  if (origins_.empty() || origin.empty()) return false;
  if (any_origin_) return true;
  return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

bool CorsPolicy::IsPreflight(const HttpRequest& request) const {
  return enabled() && request.method == "OPTIONS" && request.Header("Origin").has_value() &&
         request.Header("Access-Control-Request-Method").has_value();
}

HttpResponse CorsPolicy::Preflight(const HttpRequest& request) const {
  std::string_view origin = request.Header("Origin").value_or("");
  if (!OriginAllowed(origin)) {
    return ErrorResponse(403, "forbidden", "origin is not allowed by the CORS policy");
  }
  HttpResponse response;
  response.status = 204;
  response.content_type.clear();
  response.headers.Set("Access-Control-Allow-Origin", origin);
  response.headers.Set("Access-Control-Allow-Methods", kAllowMethods);
  response.headers.Set("Access-Control-Allow-Headers", kAllowHeaders);
  response.headers.Set("Access-Control-Max-Age", "600");
  response.headers.Set("Vary", "Origin");
  return response;
}

void CorsPolicy::Decorate(const HttpRequest& request, HttpResponse* response) const {
  std::optional<std::string_view> origin = request.Header("Origin");
  if (!origin || !OriginAllowed(*origin)) return;
  response->headers.Set("Access-Control-Allow-Origin", *origin);
  response->headers.Set("Access-Control-Expose-Headers", kExposeHeaders);
  response->headers.Set("Vary", "Origin");
}

}  // namespace auri::api
