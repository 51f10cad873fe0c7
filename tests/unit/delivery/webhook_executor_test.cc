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
      ParseWebhookJobConfig(R"({"url":"http://example.com/hook/{{agent_id}}","method":"put",)"
                            R"("headers":{"X-Custom":"v {{agent_id}}","Idempotency-Key":"forged"},)"
                            R"("body":{"a":"{{agent_id}}"}})");
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
  EXPECT_EQ(Header(*r, "Idempotency-Key"), "job-1");  // the config cannot override it
  EXPECT_EQ(Header(*r, "webhook-id"), "job-1");
  EXPECT_EQ(Header(*r, "webhook-timestamp"), "1700000000");
  EXPECT_EQ(Header(*r, "webhook-signature"), SignWebhook("k1", "job-1", 1700000000, r->body));
  EXPECT_EQ(Header(*r, "User-Agent"), "auri/test");
  EXPECT_EQ(Header(*r, "X-Auri-Event-Id"), "ev-1");
  EXPECT_EQ(Header(*r, "X-Auri-Trigger-Id"), "trig");
}

TEST(WebhookExecutor, RejectsInvalidConfig) {
  EXPECT_FALSE(ParseWebhookJobConfig(R"({})").ok());
  EXPECT_FALSE(ParseWebhookJobConfig(R"({"url":"http://x","method":"TRACE"})").ok());
  EXPECT_FALSE(ParseWebhookJobConfig(R"({"url":"http://x","timeout_seconds":61})").ok());
  EXPECT_FALSE(ParseWebhookJobConfig(R"({"url":"http://x","expected_status_codes":[99]})").ok());
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
