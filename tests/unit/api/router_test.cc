#include "api/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace auri::api {
namespace {

Handler Returns(std::string body) {
  return [body](const HttpRequest&) { return JsonResponse(200, body); };
}

Router MakeRouter(std::vector<Route> routes) {
  Result<Router> router = Router::Create(std::move(routes));
  EXPECT_TRUE(router.ok()) << router.status().ToString();
  return std::move(router).value();
}

HttpRequest Request(std::string method, std::string target) {
  HttpRequest request;
  request.method = std::move(method);
  SetTarget(&request, target);
  return request;
}

HttpResponse Serve(const Router& router, HttpRequest request) {
  Router::Match match = router.Find(request.method, request.path);
  return router.Dispatch(match, request);
}

TEST(HttpRouterTest, MatchesLiteralRoute) {
  Router router = MakeRouter({{.method = "GET", .pattern = "/health", .handler = Returns("{}")}});
  Router::Match match = router.Find("GET", "/health");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/health");
}

TEST(HttpRouterTest, ExtractsPercentDecodedPathParams) {
  Router router = MakeRouter({{.method = "GET",
                               .pattern = "/api/v1/triggers/{id}/conditions/{cid}",
                               .handler = [](const HttpRequest& r) {
                                 return JsonResponse(200, std::string(r.PathParam("id")) + "|" +
                                                              std::string(r.PathParam("cid")));
                               }}});
  HttpResponse response = Serve(router, Request("GET", "/api/v1/triggers/a%20b/conditions/7?x=1"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "a b|7");
}

TEST(HttpRouterTest, LiteralSegmentBeatsParameterWhateverTheOrder) {
  Router router = MakeRouter({
      {.method = "GET", .pattern = "/triggers/{id}", .handler = Returns("param")},
      {.method = "GET", .pattern = "/triggers/search", .handler = Returns("literal")},
  });
  EXPECT_EQ(Serve(router, Request("GET", "/triggers/search")).body, "literal");
  EXPECT_EQ(Serve(router, Request("GET", "/triggers/42")).body, "param");
}

TEST(HttpRouterTest, ParameterDoesNotMatchEmptySegmentOrExtraSegments) {
  Router router = MakeRouter({{.method = "GET", .pattern = "/a/{id}", .handler = Returns("x")}});
  EXPECT_EQ(router.Find("GET", "/a/").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/a/1/2").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/a").route, nullptr);
}

TEST(HttpRouterTest, UnknownPathGives404NotFoundJson) {
  Router router = MakeRouter({{.method = "GET", .pattern = "/health", .handler = Returns("{}")}});
  HttpResponse response = Serve(router, Request("GET", "/nope"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"], "not_found");
  EXPECT_EQ(body["message"], "no route for /nope");
  EXPECT_FALSE(body.contains("details"));
}

TEST(HttpRouterTest, WrongMethodGives405WithAllowHeader) {
  Router router = MakeRouter({
      {.method = "GET", .pattern = "/items/{id}", .handler = Returns("{}")},
      {.method = "DELETE", .pattern = "/items/{id}", .handler = Returns("{}")},
  });
  HttpResponse response = Serve(router, Request("POST", "/items/1"));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.Get("allow").value_or(""), "DELETE, GET, HEAD, OPTIONS");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"], "method_not_allowed");
  EXPECT_EQ(body["message"], "method POST is not allowed on /items/1");
}

TEST(HttpRouterTest, HeadUsesTheGetRoute) {
  Router router = MakeRouter({{.method = "GET", .pattern = "/health", .handler = Returns("{}")}});
  Router::Match match = router.Find("HEAD", "/health");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->method, "GET");
}

TEST(HttpRouterTest, OptionsOnKnownPathGives204WithAllow) {
  Router router = MakeRouter({{.method = "POST", .pattern = "/events", .handler = Returns("{}")}});
  HttpResponse response = Serve(router, Request("OPTIONS", "/events"));
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.headers.Get("Allow").value_or(""), "OPTIONS, POST");
  EXPECT_TRUE(response.body.empty());
}

TEST(HttpRouterTest, CreateRejectsSameMethodAndShapeTwice) {
  Result<Router> router = Router::Create({
      {.method = "GET", .pattern = "/a/{x}", .handler = Returns("1")},
      {.method = "GET", .pattern = "/a/{y}", .handler = Returns("2")},
  });
  ASSERT_FALSE(router.ok());
  EXPECT_EQ(router.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router.status().message(),
            "route GET /a/{y}: another route has the same method and path");
}

TEST(HttpRouterTest, CreateRejectsMalformedRoutes) {
  auto error = [](Route route) {
    Result<Router> router = Router::Create({std::move(route)});
    return router.ok() ? std::string("ok") : router.status().message();
  };
  EXPECT_EQ(error({.method = "get", .pattern = "/a", .handler = Returns("")}),
            "route get /a: method must be upper-case letters");
  EXPECT_EQ(error({.method = "GET", .pattern = "a", .handler = Returns("")}),
            "route GET a: pattern must start with '/'");
  EXPECT_EQ(error({.method = "GET", .pattern = "/a//b", .handler = Returns("")}),
            "route GET /a//b: empty path segment");
  EXPECT_EQ(error({.method = "GET", .pattern = "/a/{b", .handler = Returns("")}),
            "route GET /a/{b: malformed parameter '{b'");
  EXPECT_EQ(error({.method = "GET", .pattern = "/{a}/{a}", .handler = Returns("")}),
            "route GET /{a}/{a}: parameter {a} appears twice");
  EXPECT_EQ(error({.method = "GET", .pattern = "/a"}), "route GET /a: no handler");
}

TEST(HttpRouterTest, ExposesTheTableInDeclarationOrder) {
  Router router = MakeRouter({
      {.method = "GET", .pattern = "/b", .handler = Returns(""), .description = "second"},
      {.method = "POST",
       .pattern = "/a",
       .handler = Returns(""),
       .authenticated = true,
       .rate_limited = true,
       .description = "first"},
  });
  ASSERT_EQ(router.routes().size(), 2u);
  EXPECT_EQ(router.routes()[0].pattern, "/b");
  EXPECT_EQ(router.routes()[1].description, "first");
  EXPECT_TRUE(router.routes()[1].authenticated);
  EXPECT_TRUE(router.routes()[1].rate_limited);
}

TEST(HttpRouterTest, RootPatternMatchesOnlyRoot) {
  Router router = MakeRouter({{.method = "GET", .pattern = "/", .handler = Returns("root")}});
  EXPECT_NE(router.Find("GET", "/").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/x").route, nullptr);
}

}  // namespace
}  // namespace auri::api
