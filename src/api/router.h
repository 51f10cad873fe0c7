#pragma once
// The route table and its matcher. Every route of the api-gateway is one entry of one table
// (built in routes.cc); the table is data, so the OpenAPI document, tests and metrics labels are
// all derived from it.
//
// Patterns are absolute paths whose segments are literals or `{name}` parameters:
// "/api/v1/triggers/{id}/conditions/{cid}". A parameter matches one non-empty segment. When two
// patterns match the same path, the one with a literal at the first differing segment wins
// ("/triggers/search" beats "/triggers/{id}"), whatever their order in the table.
//
// A Router is immutable after Create and safe to use from any number of threads.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "common/result.h"

namespace auri::api {

// Handles one request. May throw: the pipeline turns an exception into 500 internal_error.
// Must be thread-safe (called concurrently from the server's I/O threads).
using Handler = std::function<HttpResponse(const HttpRequest&)>;

struct Route {
  std::string method;   // "GET", "POST", "PUT", "PATCH", "DELETE" (upper case)
  std::string pattern;  // "/api/v1/triggers/{id}"
  Handler handler;
  bool authenticated = false;  // requires credentials; responses get Cache-Control: no-store
  bool rate_limited = false;   // subject to the per-identity rate limiter
  // A monitoring endpoint polled constantly (health, metrics): its successful requests are
  // access-logged at debug level only, so load balancers and scrapers do not flood the log.
  bool probe = false;
  std::string description;  // one line, used as the OpenAPI summary
};

class Router {
 public:
  // Validates and indexes `routes`. Returns kInvalidArgument naming the route when a method is
  // empty or not upper case, a pattern is not "/"-rooted, has an empty segment or a malformed or
  // repeated {param}, a handler is missing, or two routes have the same method and shape
  // ("/a/{x}" and "/a/{y}" are the same shape).
  static Result<Router> Create(std::vector<Route> routes);

  struct Match {
    const Route* route = nullptr;  // null: no route for this method (see allowed_methods)
    std::vector<std::pair<std::string, std::string>> params;  // {name, percent-decoded value}
    // When route is null but some route matches the path: the methods that do, as for an Allow
    // header (includes HEAD when GET is allowed, and OPTIONS). Empty: no route matches the path.
    std::vector<std::string> allowed_methods;
  };

  // Finds the route for `method` and `path` (path without query). HEAD uses the GET route when
  // there is no HEAD route (the server sends the headers without the body).
  Match Find(std::string_view method, std::string_view path) const;

  // Answers `request` for `match`: calls the handler with request.path_params set; or 404
  // not_found when nothing matches the path; or, for OPTIONS, 204 with Allow; or 405
  // method_not_allowed with an Allow header. Exceptions from the handler propagate.
  HttpResponse Dispatch(const Match& match, HttpRequest& request) const;

  // The table, in the order given to Create (read-only; for OpenAPI generation and tests).
  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
  };
  Router() = default;

  std::vector<Route> routes_;
  std::vector<std::vector<Segment>> segments_;  // parallel to routes_
};

// The "Allow" header value for `methods` ("GET, HEAD, OPTIONS").
std::string JoinMethods(const std::vector<std::string>& methods);

}  // namespace auri::api
