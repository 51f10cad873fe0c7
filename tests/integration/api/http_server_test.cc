// The api Server over real sockets: limits, deadlines, errors as JSON, headers on every response,
// metrics, graceful shutdown.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/integration/api/gateway_fixture.h"

namespace auri::api::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class HttpServerTest : public GatewayFixture {};

nlohmann::json Json(const RawResponse& response) {
  return nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
}

bool LooksLikeUuid(const std::string& id) {
  static const std::regex kUuid(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(id, kUuid);
}

void ExpectSecurityHeaders(const RawResponse& response, const std::string& what) {
  EXPECT_EQ(response.Header("x-content-type-options"), "nosniff") << what;
  EXPECT_EQ(response.Header("x-frame-options"), "DENY") << what;
  EXPECT_EQ(response.Header("referrer-policy"), "strict-origin-when-cross-origin") << what;
  EXPECT_FALSE(response.Header("x-request-id").empty()) << what;
}

TEST_F(HttpServerTest, ServesRouteWithPathParams) {
  auto response = Fetch(Get("/test/items/a%2Fb"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "application/json");
  EXPECT_EQ(Json(*response)["id"], "a/b");
}

TEST_F(HttpServerTest, EveryResponseHasSecurityHeadersAndRequestId) {
  const std::pair<std::string, int> cases[] = {
      {Get("/health"), 200},
      {Get("/nope"), 404},
      {"PUT /health HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405},
      {Get("/test/throw"), 500},
      {"POST /test/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n", 413},
      {"GET /health HTTP/1.1\r\nHost: t\r\nBad Header Line\r\n\r\n", 400},
  };
  for (const auto& [request, status] : cases) {
    auto response = Fetch(request);
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, status) << request;
    ExpectSecurityHeaders(*response, request);
  }
}

TEST_F(HttpServerTest, SaneRequestIdIsEchoedAndOthersAreReplaced) {
  auto echoed = Fetch(Get("/health", "X-Request-ID: trace.42_a-b\r\n"));
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->Header("x-request-id"), "trace.42_a-b");

  auto replaced = Fetch(Get("/health", "X-Request-ID: " + std::string(200, 'x') + "\r\n"));
  ASSERT_TRUE(replaced);
  EXPECT_TRUE(LooksLikeUuid(replaced->Header("x-request-id"))) << replaced->Header("x-request-id");

  auto fresh = Fetch(Get("/nope"));
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(LooksLikeUuid(fresh->Header("x-request-id")));
}

TEST_F(HttpServerTest, UnknownPathGives404Json) {
  auto response = Fetch(Get("/api/v1/nothing-here"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(Json(*response), nlohmann::json({{"error", "not_found"},
                                             {"message", "no route for /api/v1/nothing-here"}}));
}

TEST_F(HttpServerTest, WrongMethodGives405JsonWithAllow) {
  auto response = Fetch(
      "POST /test/items/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->Header("allow"), "DELETE, GET, HEAD, OPTIONS");
  EXPECT_EQ(Json(*response)["error"], "method_not_allowed");
}

TEST_F(HttpServerTest, HandlerExceptionGives500WithoutDetails) {
  auto response = Fetch(Get("/test/throw"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(Json(*response),
            nlohmann::json({{"error", "internal_error"}, {"message", "internal error"}}));
  EXPECT_NE(log_.Text().find("0xdeadbeef"), std::string::npos);
}

TEST_F(HttpServerTest, AuthenticatedRouteResponsesAreNoStore) {
  auto response = Fetch(Get("/test/private"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Header("cache-control"), "no-store");
}

TEST_F(HttpServerTest, GarbageRequestLineGets400JsonAndClose) {
  for (std::string garbage : {std::string("HELLO WORLD\r\n\r\n"), std::string("GET\r\n\r\n"),
                              std::string("\x01\x02\x03\x04 binary junk\r\n\r\n"),
                              std::string("GET / HTTP/1.1 extra\r\n\r\n")}) {
    RawConnection connection(port_);
    ASSERT_TRUE(connection.ok());
    connection.Send(garbage);
    auto response = connection.ReadResponse(milliseconds(3000));
    ASSERT_TRUE(response) << "no response to garbage: " << garbage;
    EXPECT_EQ(response->status, 400) << garbage;
    EXPECT_EQ(Json(*response)["error"], "bad_request") << garbage;
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_TRUE(connection.WaitClosed(milliseconds(3000))) << garbage;
  }
}

TEST_F(HttpServerTest, BodyAtTheLimitIsAccepted) {
  std::string body(1 << 20, 'x');
  auto response = Fetch("POST /test/echo HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Json(*response)["bytes"], 1 << 20);
}

TEST_F(HttpServerTest, TwoMebibyteBodyGets413JsonAndClose) {
  RawConnection connection(port_);
  ASSERT_TRUE(connection.ok());
  std::string body(2 << 20, 'x');
  // The server may stop reading part-way; the send result does not matter, the answer does.
  connection.Send(
      "POST /test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  auto response = connection.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  auto json = Json(*response);
  EXPECT_EQ(json["error"], "payload_too_large");
  EXPECT_EQ(json["message"], "request body exceeds 1048576 bytes");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(connection.WaitClosed(milliseconds(5000)));
}

TEST_F(HttpServerTest, OversizedChunkedBodyGets413) {
  RawConnection connection(port_);
  ASSERT_TRUE(connection.ok());
  connection.Send("POST /test/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string chunk = "10000\r\n" + std::string(0x10000, 'y') + "\r\n";  // 64 KiB per chunk
  for (int i = 0; i < 20; ++i) {
    if (!connection.Send(chunk)) break;
  }
  auto response = connection.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(Json(*response)["error"], "payload_too_large");
}

TEST_F(HttpServerTest, HundredKibHeaderGets431AndClose) {
  RawConnection connection(port_);
  ASSERT_TRUE(connection.ok());
  connection.Send("GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(100 << 10, 'a') +
                  "\r\n\r\n");
  auto response = connection.ReadResponse(milliseconds(5000));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(Json(*response)["error"], "request_header_fields_too_large");
  EXPECT_TRUE(connection.WaitClosed(milliseconds(5000)));
}

TEST_F(HttpServerTest, FloodOfSmallHeadersGets431) {
  std::string headers;
  for (int i = 0; i < 2000; ++i) headers += "X-H" + std::to_string(i) + ": v\r\n";
  auto response = Fetch("GET /health HTTP/1.1\r\nHost: t\r\n" + headers + "\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
}

TEST_F(HttpServerTest, StalledHalfRequestIsClosedAtReadDeadlineWhileOthersAreServed) {
  RawConnection stalled(port_);
  ASSERT_TRUE(stalled.ok());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      stalled.Send("GET /health HTTP/1.1\r\nHost: t\r\n"));  // no blank line: half a request

  auto other = test::Fetch(port_, Get("/health"), milliseconds(500));
  ASSERT_TRUE(other) << "another client was not served while one stalled";
  EXPECT_EQ(other->status, 200);

  EXPECT_TRUE(stalled.WaitClosed(milliseconds(4000)));
  double elapsed = SecondsSince(start);
  EXPECT_GE(elapsed, 0.9);  // read_timeout_seconds = 1
  EXPECT_LE(elapsed, 2.5);
}

TEST_F(HttpServerTest, TricklingClientIsCutOffAtTheWholeRequestDeadline) {
  RawConnection trickle(port_);
  ASSERT_TRUE(trickle.ok());
  std::string request =
      "GET /health HTTP/1.1\r\nHost: t\r\nX-Pad: " + std::string(300, 'p') + "\r\n\r\n";
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  // One byte every 100 ms would take 30 s; each byte resets no timer, so the server must cut the
  // connection about 1 s after it opened.
  for (size_t i = 0; i < request.size() && SecondsSince(start) < 5; ++i) {
    if (!trickle.Send(request.substr(i, 1)) || trickle.WaitClosed(milliseconds(100))) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_LE(SecondsSince(start), 2.5);
}

TEST_F(HttpServerTest, KeepAliveAndPipelinedRequestsAreAnsweredInOrder) {
  RawConnection connection(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(
      connection.Send("GET /test/items/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                      "GET /test/items/2 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto first = connection.ReadResponse(milliseconds(3000));
  auto second = connection.ReadResponse(milliseconds(3000));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(Json(*first)["id"], "1");
  EXPECT_EQ(Json(*second)["id"], "2");
  ASSERT_TRUE(connection.Send("GET /test/items/3 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto third = connection.ReadResponse(milliseconds(3000));
  ASSERT_TRUE(third);
  EXPECT_EQ(Json(*third)["id"], "3");
}

TEST_F(HttpServerTest, ExpectContinueGetsInterimResponseThenAnswer) {
  RawConnection connection(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(
      connection.Send("POST /test/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\n\r\n"));
  auto interim = connection.ReadResponse(milliseconds(3000));
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(connection.Send("hello"));
  auto response = connection.ReadResponse(milliseconds(3000));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Json(*response)["bytes"], 5);
}

TEST_F(HttpServerTest, HeadAnswersHeadersWithoutBody) {
  RawConnection connection(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection.Send("HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = connection.ReadResponse(milliseconds(3000), /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_GT(std::stoi(head->Header("content-length")), 0);
  // The connection is still in sync: the next response is the GET, not a stray body.
  ASSERT_TRUE(connection.Send("GET /test/items/7 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto next = connection.ReadResponse(milliseconds(3000));
  ASSERT_TRUE(next);
  EXPECT_EQ(Json(*next)["id"], "7");
}

TEST_F(HttpServerTest, CorsPreflightFromConfiguredOrigin) {
  auto response = Fetch(
      "OPTIONS /test/items/1 HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example\r\n"
      "Access-Control-Request-Method: PATCH\r\nAccess-Control-Request-Headers: x-api-key\r\n"
      "Connection: close\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 204);
  EXPECT_EQ(response->Header("content-length"), "") << "RFC 9110: no Content-Length on 204";
  EXPECT_EQ(response->Header("access-control-allow-origin"), "https://app.example");
  EXPECT_NE(response->Header("access-control-allow-methods").find("PATCH"), std::string::npos);
  std::string allowed = response->Header("access-control-allow-headers");
  EXPECT_NE(allowed.find("X-API-Key"), std::string::npos) << allowed;
  EXPECT_NE(allowed.find("X-Organization-ID"), std::string::npos) << allowed;
  ExpectSecurityHeaders(*response, "preflight");

  auto actual = Fetch(Get("/health", "Origin: https://app.example\r\n"));
  ASSERT_TRUE(actual);
  EXPECT_EQ(actual->Header("access-control-allow-origin"), "https://app.example");
  auto foreign = Fetch(Get("/health", "Origin: https://evil.example\r\n"));
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->Header("access-control-allow-origin"), "");
}

TEST_F(HttpServerTest, MetricsCountRequestsByRoutePattern) {
  ASSERT_TRUE(Fetch(Get("/test/items/41")));
  ASSERT_TRUE(Fetch(Get("/test/items/42")));
  ASSERT_TRUE(Fetch(Get("/no/such/route")));
  auto response = Fetch(Get("/metrics"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "text/plain; version=0.0.4");
  const std::string& text = response->body;
  for (const char* expected :
       {"auri_http_requests_total{route=\"/test/items/{id}\",method=\"GET\",status=\"200\"} 2",
        "auri_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
        "auri_http_request_duration_seconds_count{route=\"/test/items/{id}\"} 2",
        "# TYPE auri_http_requests_in_flight gauge", "auri_http_requests_in_flight 1",
        "auri_process_resident_memory_bytes "}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n" << text;
  }
  EXPECT_EQ(text.find("/test/items/41"), std::string::npos) << "raw paths must not be labels";
}

TEST_F(HttpServerTest, AccessLogLineHasNoQueryString) {
  ASSERT_TRUE(
      Fetch(Get("/no-such-route?token=supersecret-value", "X-Request-ID: access-log-1\r\n")));
  // The log line is written before the response, but poll anyway: it costs nothing.
  ASSERT_TRUE(Eventually([&] { return log_.Text().find("access-log-1") != std::string::npos; }));
  std::string log = log_.Text();
  EXPECT_EQ(log.find("supersecret"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("path":"/no-such-route")"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("client_ip":"127.0.0.1")"), std::string::npos) << log;
}

TEST_F(HttpServerTest, SuccessfulProbeRequestsAreNotAccessLoggedAtInfo) {
  ASSERT_TRUE(Fetch(Get("/health", "X-Request-ID: probe-quiet-1\r\n")));
  // A request logged at info after it proves the log is flowing, so absence is meaningful.
  ASSERT_TRUE(Fetch(Get("/no-such-route", "X-Request-ID: probe-quiet-2\r\n")));
  ASSERT_TRUE(Eventually([&] { return log_.Text().find("probe-quiet-2") != std::string::npos; }));
  EXPECT_EQ(log_.Text().find("probe-quiet-1"), std::string::npos) << log_.Text();
}

TEST_F(HttpServerTest, GracefulStopFinishesInFlightSlowRequest) {
  RawConnection idle(port_);
  ASSERT_TRUE(idle.ok());
  RawConnection slow(port_);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(slow.Send("GET /test/slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return slow_entered_ > 0; }));

  auto start = std::chrono::steady_clock::now();
  Status stopped = server_->Stop(seconds(5));
  EXPECT_TRUE(stopped.ok()) << stopped.ToString();
  EXPECT_LT(SecondsSince(start), 2.0) << "stop waited for more than the in-flight request";

  auto response = slow.ReadResponse(milliseconds(2000));
  ASSERT_TRUE(response) << "the in-flight request was not answered";
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Json(*response)["slow"], true);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(slow.WaitClosed(milliseconds(2000)));
  EXPECT_TRUE(idle.WaitClosed(milliseconds(2000))) << "idle keep-alive connection left open";

  RawConnection late(port_);
  EXPECT_FALSE(late.ok()) << "still accepting after Stop";
}

TEST_F(HttpServerTest, StopPastDeadlineCutsOffAndSaysSo) {
  RawConnection slow(port_);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(slow.Send("GET /test/slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return slow_entered_ > 0; }));
  Status stopped = server_->Stop(milliseconds(50));
  EXPECT_EQ(stopped.code(), StatusCode::kDeadlineExceeded) << stopped.ToString();
  EXPECT_TRUE(slow.WaitClosed(milliseconds(2000)));
  EXPECT_TRUE(server_->Stop(seconds(1)).ok()) << "second Stop must be a no-op";
}

TEST_F(HttpServerTest, RunUntilSignalReturnsWhenStoppedElsewhere) {
  auto running = std::async(std::launch::async, [this] { return server_->RunUntilSignal(); });
  auto health = Fetch(Get("/health"));
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_TRUE(server_->Stop(seconds(2)).ok());
  ASSERT_EQ(running.wait_for(seconds(5)), std::future_status::ready);
  EXPECT_TRUE(running.get().ok());
}

TEST_F(HttpServerTest, StartFailsWithUnavailableWhenPortIsTaken) {
  Config::Api config = TestConfig();
  config.port = port_;
  MetricsRegistry other_metrics;
  Server second(config, log_.logger(), other_metrics, std::move(Router::Create({})).value());
  Status status = second.Start();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("address already in use"), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.hint().find("api.port"), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace auri::api::test
