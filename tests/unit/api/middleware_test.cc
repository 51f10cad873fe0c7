#include "api/middleware.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>

#include "api/pipeline.h"
#include "common/metrics.h"
#include "log_capture.h"

namespace auri::api {
namespace {

bool LooksLikeUuid(const std::string& id) {
  static const std::regex kUuid(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(id, kUuid);
}

TEST(HttpRequestIdTest, SaneIncomingIdIsKept) {
  EXPECT_EQ(ChooseRequestId("req-2024.01_abc"), "req-2024.01_abc");
  EXPECT_EQ(ChooseRequestId(std::string(128, 'a')), std::string(128, 'a'));
}

TEST(HttpRequestIdTest, MissingIdGetsNewUuid) {
  EXPECT_TRUE(LooksLikeUuid(ChooseRequestId(std::nullopt)));
  EXPECT_TRUE(LooksLikeUuid(ChooseRequestId("")));
}

TEST(HttpRequestIdTest, OverlongIdIsReplaced) {
  std::string id = ChooseRequestId(std::string(129, 'a'));
  EXPECT_TRUE(LooksLikeUuid(id)) << id;
}

TEST(HttpRequestIdTest, IdWithForbiddenCharactersIsReplaced) {
  for (const char* bad : {"a b", "a\"b", "a/b", "a\r\nX-Injected: 1", "ümlaut", "a;b", "{x}"}) {
    std::string id = ChooseRequestId(bad);
    EXPECT_TRUE(LooksLikeUuid(id)) << "input " << bad << " gave " << id;
  }
}

TEST(HttpSecurityHeadersTest, AddsTheThreeHeadersToEveryResponse) {
  HttpResponse response;
  AddSecurityHeaders(&response, /*authenticated=*/false);
  EXPECT_EQ(response.headers.Get("X-Content-Type-Options").value_or(""), "nosniff");
  EXPECT_EQ(response.headers.Get("X-Frame-Options").value_or(""), "DENY");
  EXPECT_EQ(response.headers.Get("Referrer-Policy").value_or(""),
            "strict-origin-when-cross-origin");
  EXPECT_FALSE(response.headers.Has("Cache-Control"));
}

TEST(HttpSecurityHeadersTest, AuthenticatedResponsesAreNotCached) {
  HttpResponse response;
  AddSecurityHeaders(&response, /*authenticated=*/true);
  EXPECT_EQ(response.headers.Get("Cache-Control").value_or(""), "no-store");
}

HttpRequest Preflight(std::string origin) {
  HttpRequest request;
  request.method = "OPTIONS";
  SetTarget(&request, "/api/v1/triggers");
  request.headers.Add("Origin", origin);
  request.headers.Add("Access-Control-Request-Method", "PATCH");
  return request;
}

TEST(HttpCorsTest, PreflightFromAllowedOriginListsMethodsAndHeaders) {
  CorsPolicy cors({"https://app.example"});
  HttpRequest request = Preflight("https://app.example");
  ASSERT_TRUE(cors.IsPreflight(request));
  HttpResponse response = cors.Preflight(request);
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.headers.Get("Access-Control-Allow-Origin").value_or(""),
            "https://app.example");
  std::string methods(response.headers.Get("Access-Control-Allow-Methods").value_or(""));
  EXPECT_NE(methods.find("PATCH"), std::string::npos) << methods;
  std::string headers(response.headers.Get("Access-Control-Allow-Headers").value_or(""));
  for (const char* h : {"X-API-Key", "X-Organization-ID", "Authorization", "Content-Type"}) {
    EXPECT_NE(headers.find(h), std::string::npos) << h << " missing from " << headers;
  }
}

TEST(HttpCorsTest, PreflightFromOtherOriginIsForbidden) {
  CorsPolicy cors({"https://app.example"});
  HttpResponse response = cors.Preflight(Preflight("https://evil.example"));
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "forbidden");
  EXPECT_FALSE(response.headers.Has("Access-Control-Allow-Origin"));
}

TEST(HttpCorsTest, EmptyOriginListDisablesCors) {
  CorsPolicy cors({});
  HttpRequest request = Preflight("https://app.example");
  EXPECT_FALSE(cors.IsPreflight(request));
  HttpResponse response;
  cors.Decorate(request, &response);
  EXPECT_FALSE(response.headers.Has("Access-Control-Allow-Origin"));
}

TEST(HttpCorsTest, ActualResponseToAllowedOriginIsDecorated) {
  CorsPolicy cors({"https://app.example"});
  HttpRequest request;
  request.method = "GET";
  request.headers.Add("Origin", "https://app.example");
  HttpResponse response;
  cors.Decorate(request, &response);
  EXPECT_EQ(response.headers.Get("Access-Control-Allow-Origin").value_or(""),
            "https://app.example");
  EXPECT_EQ(response.headers.Get("Vary").value_or(""), "Origin");
}

class HttpPipelineTest : public ::testing::Test {
 protected:
  HttpPipelineTest() : pipeline_(MakeRouter(), PipelineOptions{}, log_.logger(), metrics_) {}

  static Router MakeRouter() {
    auto ok = [](const HttpRequest&) { return JsonResponse(200, "{}"); };
    auto result = Router::Create({
        {.method = "GET", .pattern = "/items/{id}", .handler = ok},
        {.method = "GET", .pattern = "/private", .handler = ok, .authenticated = true},
        {.method = "GET",
         .pattern = "/boom",
         .handler = [](const HttpRequest&) -> HttpResponse {
           throw std::runtime_error("connection string postgres://secret@db");
         }},
    });
    return std::move(result).value();
  }

  HttpResponse Get(std::string target, std::optional<std::string> request_id = std::nullopt) {
    HttpRequest request;
    request.method = "GET";
    SetTarget(&request, target);
    request.client_ip = "192.0.2.7";
    if (request_id) request.headers.Add("X-Request-ID", *request_id);
    return pipeline_.Handle(request);
  }

  test::LogCapture log_;
  MetricsRegistry metrics_;
  RequestPipeline pipeline_;
};

TEST_F(HttpPipelineTest, HandlerExceptionBecomes500WithoutItsDetails) {
  HttpResponse response = Get("/boom");
  EXPECT_EQ(response.status, 500);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"], "internal_error");
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  // The operator still gets the cause, tied to the request id.
  std::string log = log_.Text();
  EXPECT_NE(log.find("postgres://secret@db"), std::string::npos);
  EXPECT_NE(log.find(std::string(response.headers.Get("X-Request-ID").value_or("?"))),
            std::string::npos);
}

TEST_F(HttpPipelineTest, EveryResponseCarriesRequestIdAndSecurityHeaders) {
  for (const char* target : {"/items/1", "/nowhere", "/boom"}) {
    HttpResponse response = Get(target, "trace-1");
    EXPECT_EQ(response.headers.Get("X-Request-ID").value_or(""), "trace-1") << target;
    EXPECT_EQ(response.headers.Get("X-Content-Type-Options").value_or(""), "nosniff") << target;
    EXPECT_EQ(response.headers.Get("X-Frame-Options").value_or(""), "DENY") << target;
  }
}

TEST_F(HttpPipelineTest, AuthenticatedRouteResponsesAreNoStore) {
  EXPECT_EQ(Get("/private").headers.Get("Cache-Control").value_or(""), "no-store");
  EXPECT_FALSE(Get("/items/1").headers.Has("Cache-Control"));
}

TEST_F(HttpPipelineTest, MetricsAreLabelledByRoutePatternNotRawPath) {
  Get("/items/1");
  Get("/items/2");
  Get("/nowhere/3");
  auto* counter_text =
      "auri_http_requests_total{route=\"/items/{id}\",method=\"GET\",status=\"200\"} 2";
  std::string text = metrics_.Render();
  EXPECT_NE(text.find(counter_text), std::string::npos) << text;
  EXPECT_NE(
      text.find("auri_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.find("/items/1"), std::string::npos);
  EXPECT_NE(text.find("auri_http_request_duration_seconds_count{route=\"/items/{id}\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("auri_http_requests_in_flight 0"), std::string::npos) << text;
  EXPECT_NE(text.find("auri_process_resident_memory_bytes "), std::string::npos) << text;
}

TEST_F(HttpPipelineTest, UnknownMethodIsCountedAsOther) {
  HttpRequest request;
  request.method = "BREW";
  SetTarget(&request, "/items/1");
  EXPECT_EQ(pipeline_.Handle(request).status, 405);
  EXPECT_NE(metrics_.Render().find("method=\"OTHER\",status=\"405\""), std::string::npos);
}

TEST_F(HttpPipelineTest, AccessLogHasPathStatusAndIdButNoQueryString) {
  HttpResponse response = Get("/items/9?api_key=sk_live_verysecret", "log-check-1");
  ASSERT_EQ(response.status, 200);
  std::string log = log_.Text();
  EXPECT_EQ(log.find("verysecret"), std::string::npos) << log;
  size_t line_start = log.find("\"msg\":\"http request\"");
  ASSERT_NE(line_start, std::string::npos) << log;
  auto line = nlohmann::json::parse(
      log.substr(log.rfind('\n', line_start) + 1,
                 log.find('\n', line_start) - log.rfind('\n', line_start) - 1));
  EXPECT_EQ(line["path"], "/items/9");
  EXPECT_EQ(line["route"], "/items/{id}");
  EXPECT_EQ(line["method"], "GET");
  EXPECT_EQ(line["status"], 200);
  EXPECT_EQ(line["request_id"], "log-check-1");
  EXPECT_EQ(line["client_ip"], "192.0.2.7");
  EXPECT_TRUE(line["duration_ms"].is_number());
}

TEST_F(HttpPipelineTest, RejectDecoratesProtocolErrorsLikeAnyResponse) {
  HttpRequest partial;
  partial.client_ip = "192.0.2.8";
  HttpResponse response =
      pipeline_.Reject(partial, ErrorResponse(413, "payload_too_large", "too big"));
  EXPECT_EQ(response.status, 413);
  EXPECT_TRUE(LooksLikeUuid(std::string(response.headers.Get("X-Request-ID").value_or(""))));
  EXPECT_EQ(response.headers.Get("X-Frame-Options").value_or(""), "DENY");
  EXPECT_NE(metrics_.Render().find("route=\"unmatched\",method=\"OTHER\",status=\"413\""),
            std::string::npos);
}

}  // namespace
}  // namespace auri::api

namespace auri::api {
namespace {

TEST(RequestIdTest, NewIdsAreUuidShapedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRequestId();
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
    EXPECT_TRUE(IsSaneRequestId(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace auri::api
