#include "api/http.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/errors.h"

namespace auri::api {
namespace {

TEST(HttpErrorBodyTest, HasErrorAndMessageAndNoDetailsByDefault) {
  HttpResponse response = ErrorResponse(400, "bad_request", "body is not json");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":"bad_request","message":"body is not json"})");
}

TEST(HttpErrorBodyTest, IncludesDetailsObjectWhenGiven) {
  HttpResponse response = ErrorResponse(400, "validation_error", "invalid fields",
                                        R"({"fields":[{"field":"name","error":"required"}]})");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"], "validation_error");
  EXPECT_EQ(body["details"]["fields"][0]["field"], "name");
  EXPECT_EQ(body.size(), 3u);
}

TEST(HttpErrorBodyTest, EscapesTheMessage) {
  HttpResponse response = ErrorResponse(404, "not_found", "no route for /a\"b\n\\");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["message"], "no route for /a\"b\n\\");
}

TEST(HttpHeadersTest, LookupIgnoresCase) {
  HttpHeaders headers;
  headers.Add("X-API-Key", "k1");
  EXPECT_EQ(headers.Get("x-api-key").value_or(""), "k1");
  EXPECT_EQ(headers.Get("X-Api-KEY").value_or(""), "k1");
  EXPECT_FALSE(headers.Get("X-API-Keys").has_value());
}

TEST(HttpHeadersTest, SetReplacesEveryFieldOfThatName) {
  HttpHeaders headers;
  headers.Add("Vary", "a");
  headers.Add("vary", "b");
  headers.Set("VARY", "Origin");
  ASSERT_EQ(headers.entries().size(), 1u);
  EXPECT_EQ(headers.Get("vary").value_or(""), "Origin");
}

TEST(HttpHeadersTest, ValuesCannotSplitTheResponse) {
  HttpHeaders headers;
  headers.Set("X-Request-ID", "abc\r\nSet-Cookie: x=1");
  EXPECT_EQ(headers.Get("X-Request-ID").value_or(""), "abcSet-Cookie: x=1");
}

TEST(HttpRequestTest, SetTargetSplitsPathAndDecodesQuery) {
  HttpRequest request;
  SetTarget(&request, "/api/v1/events?limit=5&agent_id=a%2Fb&name=x+y&flag&limit=6");
  EXPECT_EQ(request.path, "/api/v1/events");
  EXPECT_EQ(request.target, "/api/v1/events?limit=5&agent_id=a%2Fb&name=x+y&flag&limit=6");
  EXPECT_EQ(request.Query("limit").value_or(""), "5");  // the first of repeated names
  EXPECT_EQ(request.Query("agent_id").value_or(""), "a/b");
  EXPECT_EQ(request.Query("name").value_or(""), "x y");
  EXPECT_EQ(request.Query("flag").value_or("missing"), "");
  EXPECT_FALSE(request.Query("offset").has_value());
  EXPECT_EQ(request.query.size(), 5u);
}

TEST(HttpRequestTest, PercentDecodeKeepsInvalidEscapes) {
  EXPECT_EQ(PercentDecode("100%", false), "100%");
  EXPECT_EQ(PercentDecode("%zz%4", false), "%zz%4");
  EXPECT_EQ(PercentDecode("a+b%2B", false), "a+b+");
  EXPECT_EQ(PercentDecode("a+b%2B", true), "a b+");
}

TEST(HttpStatusTranslationTest, MapsEachCodeToTheSpecErrorCode) {
  struct Case {
    Status status;
    int http;
    const char* code;
  } cases[] = {
      {InvalidArgument("limit must be 1..100"), 400, "bad_request"},
      {Unauthenticated("missing credentials"), 401, "unauthorized"},
      {PermissionDenied("role viewer cannot write"), 403, "forbidden"},
      {NotFound("trigger not found"), 404, "not_found"},
      {AlreadyExists("slug taken"), 409, "conflict"},
      {ResourceExhausted("too many requests"), 429, "rate_limited"},
      {Unavailable("postgres down"), 503, "service_unavailable"},
      {DeadlineExceeded("statement timeout"), 503, "service_unavailable"},
      {Internal("bug"), 500, "internal_error"},
  };
  for (const Case& c : cases) {
    HttpResponse response = ResponseFromStatus(c.status);
    auto body = nlohmann::json::parse(response.body);
    EXPECT_EQ(response.status, c.http) << c.status.ToString();
    EXPECT_EQ(body["error"], c.code) << c.status.ToString();
  }
}

TEST(HttpStatusTranslationTest, ClientErrorsKeepMessageServerErrorsHideIt) {
  auto client = nlohmann::json::parse(ResponseFromStatus(NotFound("trigger not found")).body);
  EXPECT_EQ(client["message"], "trigger not found");
  HttpResponse server = ResponseFromStatus(Unavailable("connection to 10.0.0.5:5432 refused"));
  EXPECT_EQ(server.body.find("10.0.0.5"), std::string::npos);
  EXPECT_EQ(server.headers.Get("Retry-After").value_or(""), "5");
  HttpResponse internal = ResponseFromStatus(Internal("null pointer in frobnicate()"));
  EXPECT_EQ(nlohmann::json::parse(internal.body)["message"], "internal error");
}

}  // namespace
}  // namespace auri::api
