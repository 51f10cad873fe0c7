#pragma once
// Plain request/response types the api handlers see. No Beast, no JSON library: this header is
// included by every handler, so it stays cheap to compile. The server (server.cc) converts between
// these and Beast messages; handlers never see a socket.
//
// Values are thread-compatible: one request is handled by one thread at a time.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace auri::api {

// HTTP header fields in arrival order; names compare case-insensitively (RFC 9110 §5.1).
class HttpHeaders {
 public:
  // Appends a field (repeated fields are kept). CR and LF are removed from name and value so a
  // value taken from input can never split a response header.
  void Add(std::string_view name, std::string_view value);
  // Replaces every field named `name` with one field.
  void Set(std::string_view name, std::string_view value);
  void Remove(std::string_view name);
  // Value of the first field named `name`, or nullopt. The view is valid until the next mutation.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }

  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// True when `a` and `b` are equal ignoring ASCII case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Who is calling, as established by the pipeline's authentication step (api/authenticator.h) for
// routes marked `authenticated`; kAnonymous on every other route.
enum class CallerKind {
  kAnonymous,    // no credentials (or a route that does not authenticate)
  kUser,         // a valid JWT access token
  kApiKey,       // a valid, unrevoked, unexpired API key
  kIngestToken,  // the `ingest-token` secret (POST /api/v1/events only)
};

struct Caller {
  CallerKind kind = CallerKind::kAnonymous;
  std::string user_id;   // kUser: the token's sub
  std::string username;  // kUser
  // kApiKey: the key's organization, id, permission bits (auri::ApiKeyPermission values OR-ed,
  // kept as bits so this header stays free of auth/) and its rate_limit_override (0 = none).
  std::string organization_id;
  std::string api_key_id;
  unsigned permission_bits = 0;
  int64_t rate_limit_override = 0;
  std::string organization_plan;  // kApiKey: the organization's plan, for the rate limit
};

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET" (HTTP methods are case-sensitive)
  std::string target;  // the raw request target, e.g. "/api/v1/events?limit=5"
  std::string path;    // target up to '?', not percent-decoded (routes match on this)
  // Query parameters in order, percent-decoded ('+' is a space); repeated names are kept.
  std::vector<std::pair<std::string, std::string>> query;
  HttpHeaders headers;
  std::string body;
  std::string client_ip;   // peer address of the connection ("127.0.0.1", "::1")
  std::string request_id;  // set by the pipeline before routing (echoed X-Request-ID or a UUID)
  // Values of the route's {param} segments, percent-decoded; set by the router.
  std::map<std::string, std::string, std::less<>> path_params;
  Caller caller;  // set by the pipeline before the handler runs
  // X-RateLimit-{Limit,Remaining,Reset} values decided before the handler ran (empty when the
  // route is not rate-limited); the pipeline adds them to the response.
  std::vector<std::string> rate_headers;

  // Value of a header, or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const { return headers.Get(name); }
  // First value of a query parameter, or nullopt.
  std::optional<std::string_view> Query(std::string_view name) const;
  // A path parameter; empty when the route has no such parameter.
  std::string_view PathParam(std::string_view name) const;
};

// Splits `target` into `request->path` and `request->query` (and stores it in `request->target`).
void SetTarget(HttpRequest* request, std::string_view target);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); invalid escapes are kept literally.
std::string PercentDecode(std::string_view text, bool plus_is_space);

struct HttpResponse {
  int status = 200;
  // Sent as the Content-Type header unless empty (e.g. 204 responses).
  std::string content_type = "application/json";
  HttpHeaders headers;
  std::string body;
};

// A response with `json` (already serialized JSON text) as the body.
HttpResponse JsonResponse(int status, std::string json);

// The one error shape of the API (spec 10-api.md):
//   {"error": "<code>", "message": "<message>", "details": <details_json>}
// `details` is omitted when `details_json` is empty; otherwise it must be a serialized JSON object
// (it is inserted verbatim). `message` is JSON-escaped; it must not contain internals of a 5xx.
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view details_json = "");

}  // namespace auri::api
