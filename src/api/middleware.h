#pragma once
// The steps the pipeline (pipeline.h) runs around the router, as small pure functions and one
// policy class so each is unit-testable without a server. All are thread-safe (CorsPolicy is
// immutable).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"

namespace auri::api {

// Longest X-Request-ID accepted from a client.
inline constexpr size_t kMaxRequestIdLength = 128;

// True when `id` is 1..128 characters of [A-Za-z0-9._-]: safe to echo in a header and a log line.
bool IsSaneRequestId(std::string_view id);

// A fresh request id in UUID form (version 4 layout), from a fast per-thread generator: unique,
// not meant to be unpredictable. Thread-safe.
std::string NewRequestId();

// The request id to use: `incoming` (the client's X-Request-ID) when it is sane, else a new one.
std::string ChooseRequestId(std::optional<std::string_view> incoming);

// Adds the headers every response carries (spec 10-api.md): X-Content-Type-Options: nosniff,
// X-Frame-Options: DENY, Referrer-Policy: strict-origin-when-cross-origin, and
// Cache-Control: no-store when `authenticated` (responses of authenticated routes must not be
// cached by shared caches or browsers).
void AddSecurityHeaders(HttpResponse* response, bool authenticated);

// CORS for a configured list of origins. An origin is allowed when it equals an entry exactly
// (scheme://host[:port]) or the list contains "*". An empty list disables CORS: no CORS headers
// are ever sent and preflights are answered like any OPTIONS request.
class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> allowed_origins);

  bool enabled() const { return !origins_.empty(); }
  bool OriginAllowed(std::string_view origin) const;

  // True when `request` is a CORS preflight (OPTIONS with Origin and
  // Access-Control-Request-Method) and CORS is enabled.
  bool IsPreflight(const HttpRequest& request) const;

  // The answer to a preflight: 204 with Access-Control-Allow-Origin/-Methods (incl. PATCH)/-Headers
  // (incl. Authorization, Content-Type, X-API-Key, X-Organization-ID, X-Request-ID)/-Max-Age when
  // the origin is allowed; 403 forbidden JSON when it is not.
  HttpResponse Preflight(const HttpRequest& request) const;

  // Adds Access-Control-Allow-Origin (+ Vary: Origin, Access-Control-Expose-Headers) to an actual
  // response when the request's Origin is allowed; does nothing otherwise.
  void Decorate(const HttpRequest& request, HttpResponse* response) const;

 private:
  std::vector<std::string> origins_;
  bool any_origin_ = false;
};

}  // namespace auri::api
