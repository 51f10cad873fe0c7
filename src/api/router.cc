#include "api/router.h"

#include <algorithm>
#include <set>

namespace auri::api {
namespace {

// Splits "/a/b/c" into {"a","b","c"}; "/" gives no segments. REQUIRES: path starts with '/'.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() <= 1) return out;
  size_t start = 1;
  while (true) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool IsParamName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsMethodName(std::string_view method) {
  if (method.empty()) return false;
  return std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

std::string JoinMethods(const std::vector<std::string>& methods) {
  std::string out;
  for (const auto& m : methods) {
    if (!out.empty()) out.append(", ");
    out.append(m);
  }
  return out;
}

Result<Router> Router::Create(std::vector<Route> routes) {
  Router router;
  std::set<std::pair<std::string, std::string>> shapes;  // {method, pattern with params as {}}
  for (const Route& route : routes) {
    std::string where = route.method + " " + route.pattern;
    if (!IsMethodName(route.method)) {
      return InvalidArgument("route " + where + ": method must be upper-case letters");
    }
    if (route.pattern.empty() || route.pattern[0] != '/') {
      return InvalidArgument("route " + where + ": pattern must start with '/'");
    }
    if (!route.handler) return InvalidArgument("route " + where + ": no handler");
    std::vector<Segment> segments;
    std::set<std::string> param_names;
    std::string shape;
    for (std::string_view part : SplitPath(route.pattern)) {
      if (part.empty()) return InvalidArgument("route " + where + ": empty path segment");
      Segment segment;
      if (part.front() == '{') {
        if (part.back() != '}' || !IsParamName(part.substr(1, part.size() - 2))) {
          return InvalidArgument("route " + where + ": malformed parameter '" + std::string(part) +
                                 "'");
        }
        segment.is_param = true;
        segment.text = std::string(part.substr(1, part.size() - 2));
        if (!param_names.insert(segment.text).second) {
          return InvalidArgument("route " + where + ": parameter {" + segment.text +
                                 "} appears twice");
        }
        shape.append("/{}");
      } else {
        if (part.find_first_of("{}") != std::string_view::npos) {
          return InvalidArgument("route " + where + ": braces inside a literal segment");
        }
        segment.text = std::string(part);
        shape.append("/").append(part);
      }
      segments.push_back(std::move(segment));
    }
    if (!shapes.emplace(route.method, shape.empty() ? "/" : shape).second) {
      return InvalidArgument("route " + where + ": another route has the same method and path");
    }
    router.segments_.push_back(std::move(segments));
  }
  router.routes_ = std::move(routes);
  return router;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  if (path.empty() || path[0] != '/') return match;
  std::vector<std::string_view> parts = SplitPath(path);

  // True when the pattern `a` is more specific than `b` (literal wins at the first difference).
  auto more_specific = [&](size_t a, size_t b) {
    for (size_t k = 0; k < parts.size(); ++k) {
      bool a_lit = !segments_[a][k].is_param;
      bool b_lit = !segments_[b][k].is_param;
      if (a_lit != b_lit) return a_lit;
    }
    return false;
  };

  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t best = kNone;      // best route with exactly `method`
  size_t best_get = kNone;  // best GET route, for HEAD
  std::vector<std::string> allowed;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const std::vector<Segment>& segments = segments_[i];
    if (segments.size() != parts.size()) continue;
    bool matches = true;
    for (size_t k = 0; k < parts.size() && matches; ++k) {
      matches = segments[k].is_param ? !parts[k].empty() : segments[k].text == parts[k];
    }
    if (!matches) continue;
    const std::string& route_method = routes_[i].method;
    allowed.push_back(route_method);
    if (route_method == method && (best == kNone || more_specific(i, best))) best = i;
    if (route_method == "GET" && (best_get == kNone || more_specific(i, best_get))) best_get = i;
  }
  if (best == kNone && method == "HEAD") best = best_get;

  if (best == kNone) {
    if (allowed.empty()) return match;
    if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) {
      allowed.push_back("HEAD");
    }
    allowed.push_back("OPTIONS");
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    match.allowed_methods = std::move(allowed);
    return match;
  }

  match.route = &routes_[best];
  for (size_t k = 0; k < parts.size(); ++k) {
    const Segment& segment = segments_[best][k];
    if (segment.is_param) match.params.emplace_back(segment.text, PercentDecode(parts[k], false));
  }
  return match;
}

HttpResponse Router::Dispatch(const Match& match, HttpRequest& request) const {
  if (match.route) {
    request.path_params.clear();
    for (const auto& [name, value] : match.params) request.path_params.emplace(name, value);
    return match.route->handler(request);
  }
  if (match.allowed_methods.empty()) {
    return ErrorResponse(404, "not_found", "no route for " + request.path);
  }
  std::string allow = JoinMethods(match.allowed_methods);
  if (request.method == "OPTIONS") {
    HttpResponse response;
    response.status = 204;
    response.content_type.clear();
    response.headers.Set("Allow", allow);
    return response;
  }
  HttpResponse response = ErrorResponse(
      405, "method_not_allowed", "method " + request.method + " is not allowed on " + request.path);
  response.headers.Set("Allow", allow);
  return response;
}

}  // namespace auri::api
