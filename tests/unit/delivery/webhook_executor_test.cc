#include "delivery/webhook_executor.h"

#include <gtest/gtest.h>

#include "delivery/webhook_signature.h"

namespace auri::delivery {
namespace {

std::string Header(const HttpRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

TEST(WebhookExecutor, BuildsSignedRequestWithAuriHeaders) {
  auto config =
      ParseWebhookConfig(R"({"url":"http://example.com/hook/{{agent_id}}","method":"PUT",)"
                         R"("headers":{"X-Custom":"v {{agent_id}}"},"body":{"a":"{{agent_id}}"}})");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto values = ValuesFromEvent(R"({"agent_id":7})", "trig", "name");
  ASSERT_TRUE(values.ok());
  WebhookContext ctx;
  ctx.job_id = "job-1";
  ctx.event_id = "ev-1";
  ctx.trigger_id = "trig";
  ctx.event_json = R"({"agent_id":7})";
  ctx.values = &*values;
  ctx.signing_keys = {"k1"};
  ctx.timestamp = 1700000000;
  ctx.user_agent = "auri/test";
  auto r = BuildWebhookRequest(*config, ctx);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->method, "PUT");
  EXPECT_EQ(r->url, "http://example.com/hook/7");
  EXPECT_EQ(r->host, "example.com");
  EXPECT_EQ(r->body, R"({"a":7})");
  EXPECT_EQ(Header(*r, "X-Custom"), "v 7");
  EXPECT_EQ(Header(*r, "Idempotency-Key"), "job-1");
  EXPECT_EQ(Header(*r, "webhook-id"), "job-1");
  EXPECT_EQ(Header(*r, "webhook-timestamp"), "1700000000");
  EXPECT_EQ(Header(*r, "webhook-signature"), SignWebhook("k1", "job-1", 1700000000, r->body));
  EXPECT_EQ(Header(*r, "User-Agent"), "auri/test");
  EXPECT_EQ(Header(*r, "X-Auri-Event-Id"), "ev-1");
  EXPECT_EQ(Header(*r, "X-Auri-Trigger-Id"), "trig");
}

// The headers Auri sets cannot come from a config: the one config parser refuses them, both when
// the action is saved and when a job's snapshot is read.
TEST(WebhookExecutor, ConfigCannotForgeAuriHeaders) {
  for (const char* name :
       {"Idempotency-Key", "webhook-signature", "User-Agent", "X-Auri-Event-Id"}) {
    std::string config =
        std::string(R"({"url":"http://x.example","headers":{")") + name + R"(":"forged"}})";
    EXPECT_FALSE(ParseWebhookConfig(config, nullptr, UnknownPlaceholders::kRenderEmpty).ok())
        << name;
  }
}

// A value from the event cannot inject a header line.
TEST(WebhookExecutor, HeaderRenderingToALineBreakFails) {
  auto config = ParseWebhookConfig(R"({"url":"http://x.example","headers":{"X-Tag":"{{tag1}}"}})");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto values = ValuesFromEvent(R"({"tag1":"a\r\nX-Evil: 1"})", "t", "n");
  ASSERT_TRUE(values.ok());
  WebhookContext ctx;
  ctx.job_id = "job-1";
  ctx.event_json = "{}";
  ctx.values = &*values;
  ctx.signing_keys = {"k1"};
  auto r = BuildWebhookRequest(*config, ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line break"), std::string::npos) << r.status().message();
}

TEST(WebhookExecutor, ClassifiesResponses) {
  HttpResult ok;
  ok.transport_ok = true;
  ok.status = 204;
  EXPECT_EQ(ClassifyHttpResult(ok, {}, 0).failure, AttemptFailure::kNone);
  EXPECT_EQ(ClassifyHttpResult(ok, {200}, 0).failure, AttemptFailure::kHttpStatus);
  HttpResult limited = ok;
  limited.status = 429;
  limited.retry_after = "2";
  AttemptOutcome o = ClassifyHttpResult(limited, {}, 0);
  EXPECT_EQ(o.failure, AttemptFailure::kHttpStatus);
  EXPECT_EQ(o.retry_after, std::chrono::seconds(2));
  HttpResult timeout;
  timeout.timed_out = true;
  timeout.error = "Timeout was reached";
  EXPECT_EQ(ClassifyHttpResult(timeout, {}, 0).failure, AttemptFailure::kTimeout);
}

}  // namespace
}  // namespace auri::delivery
