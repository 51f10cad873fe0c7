#include "api/openapi.h"

#include <algorithm>
#include <cctype>

#include "api/json_body.h"

namespace auri::api {
namespace {

std::vector<std::string> PathParams(const std::string& pattern) {
  std::vector<std::string> names;
  size_t pos = 0;
  while ((pos = pattern.find('{', pos)) != std::string::npos) {
    size_t end = pattern.find('}', pos);
    if (end == std::string::npos) break;
    names.push_back(pattern.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return names;
}

// "/api/v1/triggers/{id}" → "triggers": groups operations in viewers.
std::string Tag(const std::string& pattern) {
  std::string_view p = pattern;
  constexpr std::string_view kPrefix = "/api/v1/";
  if (p.substr(0, kPrefix.size()) == kPrefix) p.remove_prefix(kPrefix.size());
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  return std::string(p.substr(0, p.find('/')));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string OpenApiDocument(const std::vector<Route>& routes, std::string_view version) {
  nlohmann::json paths = nlohmann::json::object();
  for (const Route& route : routes) {
    nlohmann::json op = {{"summary", route.description},
                         {"operationId", Lower(route.method) + route.pattern},
                         {"tags", {Tag(route.pattern)}}};
    nlohmann::json params = nlohmann::json::array();
    for (const std::string& name : PathParams(route.pattern)) {
      params.push_back(
          {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (route.authenticated) {
      op["security"] = nlohmann::json::array({nlohmann::json{{"bearer", nlohmann::json::array()}},
                                              nlohmann::json{{"apiKey", nlohmann::json::array()}}});
    }
    nlohmann::json responses = {
        {"default", {{"description", "error: {\"error\", \"message\", \"details\"?}"}}}};
    std::string ok = route.method == "POST" ? "201" : "200";
    if (route.pattern == "/api/v1/events" && route.method == "POST") ok = "202";
    responses[ok] = {{"description", "success"}};
    if (route.rate_limited) responses["429"] = {{"description", "rate limited (Retry-After)"}};
    op["responses"] = responses;
    paths[route.pattern][Lower(route.method)] = op;
  }
  nlohmann::json doc = {
      {"openapi", "3.0.3"},
      {"info", {{"title", "Auri API"}, {"version", std::string(version)}}},
      {"paths", paths},
      {"components",
       {{"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
          {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}}}}};
  return DumpJson(doc);
}

}  // namespace auri::api
