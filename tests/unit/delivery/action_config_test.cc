// Action configs (spec 30-delivery.md, "webhook", "telegram"): what is refused when an action is
// saved, with the field names the API reports.
#include "delivery/action_config.h"

#include <gtest/gtest.h>

namespace auri::delivery {
namespace {

using pipeline::FieldErrors;

// The field names of the errors `config` gets as a webhook.
std::vector<std::string> WebhookErrorFields(const std::string& config) {
  FieldErrors errors;
  Result<WebhookConfig> parsed = ParseWebhookConfig(config, &errors);
  EXPECT_EQ(parsed.ok(), errors.empty());
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  return fields;
}

std::vector<std::string> TelegramErrorFields(const std::string& config) {
  FieldErrors errors;
  Result<TelegramConfig> parsed = ParseTelegramConfig(config, &errors);
  EXPECT_EQ(parsed.ok(), errors.empty());
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  return fields;
}

using Fields = std::vector<std::string>;

TEST(ActionConfigTest, ActionTypesIncludeTheRestAlias) {
  EXPECT_EQ(ParseActionType("webhook"), ActionType::kWebhook);
  EXPECT_EQ(ParseActionType("rest"), ActionType::kWebhook);
  EXPECT_EQ(ParseActionType("telegram"), ActionType::kTelegram);
  EXPECT_EQ(ParseActionType("email"), std::nullopt);
  FieldErrors errors;
  EXPECT_FALSE(ValidateActionConfig("email", "{}", &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "action_type");
}

TEST(ActionConfigTest, MinimalWebhookGetsDefaults) {
  Result<WebhookConfig> c = ParseWebhookConfig(R"({"url": "https://hooks.example.com/x"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->method, "POST");
  EXPECT_EQ(c->timeout_seconds, 10);
  EXPECT_TRUE(c->expected_status_codes.empty());
  EXPECT_FALSE(c->body_json.has_value());
}

TEST(ActionConfigTest, FullWebhookIsParsed) {
  Result<WebhookConfig> c = ParseWebhookConfig(R"({
    "url": "http://user:pw@[::1]:8080/a/{{agent_id}}?t={{event_type}}",
    "method": "PUT", "headers": {"Authorization": "Bearer {{trigger_id}}", "X-Tab": "a\tb"},
    "body": {"agent": "{{agent_id}}", "list": ["{{score}}", 1, null]},
    "timeout_seconds": 60, "expected_status_codes": [200, 202]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->method, "PUT");
  EXPECT_EQ(c->headers.size(), 2u);
  EXPECT_EQ(c->timeout_seconds, 60);
  EXPECT_EQ(c->expected_status_codes, (std::vector<int>{200, 202}));
  ASSERT_TRUE(c->body_json.has_value());
}

TEST(ActionConfigTest, UrlSyntaxIsChecked) {
  EXPECT_EQ(WebhookErrorFields(R"({})"), Fields{"config.url"});
  EXPECT_EQ(WebhookErrorFields(R"({"url": 5})"), Fields{"config.url"});
  for (const char* bad :
       {"ftp://x.example/", "https//x", "https://", "https:///path", "https://exa mple.com/",
        "https://example.com:0/", "https://example.com:70000/", "https://example.com:/",
        "https://{{owner}}.example.com/", "https://[zz]/", "https://a\\u0000b/",
        "https://ex{ample.com/", "https://example.com/{{nope}}", "https://ex%ample.com\\u000a"}) {
    EXPECT_EQ(WebhookErrorFields(std::string(R"({"url": ")") + bad + "\"}"), Fields{"config.url"})
        << bad;
  }
  std::string long_url = "https://e.com/" + std::string(2048, 'a');
  EXPECT_EQ(WebhookErrorFields(R"({"url": ")" + long_url + "\"}"), Fields{"config.url"});
  EXPECT_TRUE(WebhookErrorFields(R"({"url": "HTTPS://Example.COM"})").empty());
}

TEST(ActionConfigTest, MethodTimeoutAndStatusCodesAreBounded) {
  const std::string url = R"("url": "https://e.com")";
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "method": "post"})"), Fields{"config.method"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "timeout_seconds": 0})"),
            Fields{"config.timeout_seconds"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "timeout_seconds": 61})"),
            Fields{"config.timeout_seconds"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "timeout_seconds": 1.5})"),
            Fields{"config.timeout_seconds"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "timeout_seconds": 18446744073709551615})"),
            Fields{"config.timeout_seconds"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "expected_status_codes": [200, 99, "201"]})"),
            (Fields{"config.expected_status_codes[1]", "config.expected_status_codes[2]"}));
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "expected_status_codes": 200})"),
            Fields{"config.expected_status_codes"});
}

TEST(ActionConfigTest, HeadersAreChecked) {
  const std::string url = R"("url": "https://e.com")";
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "headers": {"Bad Name": "x"}})"),
            Fields{"config.headers.Bad Name"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "headers": {"X-A": "a\r\nInjected: 1"}})"),
            Fields{"config.headers.X-A"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "headers": {"X-A": 1}})"),
            Fields{"config.headers.X-A"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "headers": {"X-A": "{{nope}}"}})"),
            Fields{"config.headers.X-A"});
  for (const char* forbidden : {"Host", "content-length", "Transfer-Encoding", "Connection",
                                "Content-Type", "Proxy-Authorization", "webhook-signature",
                                "X-Auri-Event-Id", "Idempotency-Key", "User-Agent"}) {
    EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "headers": {")" + forbidden + R"(": "x"}})"),
              Fields{"config.headers." + std::string(forbidden)})
        << forbidden;
  }
  std::string many = "{" + url + R"(, "headers": {)";
  for (int i = 0; i < 21; ++i) many += (i ? "," : "") + ("\"X-" + std::to_string(i) + "\": \"v\"");
  EXPECT_EQ(WebhookErrorFields(many + "}}"), Fields{"config.headers"});
  EXPECT_EQ(
      WebhookErrorFields("{" + url + R"(, "headers": {"X-A": ")" + std::string(1025, 'v') + "\"}}"),
      Fields{"config.headers.X-A"});
}

TEST(ActionConfigTest, BodyTemplateIsChecked) {
  const std::string url = R"("url": "https://e.com")";
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "body": "text"})"), Fields{"config.body"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "body": {"a": ["{{bogus}}"]}})"),
            Fields{"config.body"});
  EXPECT_EQ(WebhookErrorFields("{" + url + R"(, "body": {"{{bogus}}": 1}})"),
            Fields{"config.body"});
  EXPECT_EQ(
      WebhookErrorFields("{" + url + R"(, "body": {"a": ")" + std::string(5000, 'x') + "\"}}"),
      Fields{"config.body"});
}

TEST(ActionConfigTest, UnknownKeysAndNonObjectsAreRefused) {
  EXPECT_EQ(WebhookErrorFields(R"({"url": "https://e.com", "timeout": 5})"),
            Fields{"config.timeout"});
  EXPECT_EQ(WebhookErrorFields(R"([1])"), Fields{"config"});
  EXPECT_EQ(WebhookErrorFields(R"(not json)"), Fields{"config"});
}

TEST(ActionConfigTest, TelegramConfig) {
  Result<TelegramConfig> c =
      ParseTelegramConfig(R"({"chat_id": "-1001234", "message_template": "{{event_type}}"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->parse_mode, TelegramParseMode::kMarkdownV2);
  EXPECT_EQ(ParseTelegramConfig(R"({"chat_id": "1", "message_template": "m",
                                    "parse_mode": "HTML"})")
                ->parse_mode,
            TelegramParseMode::kHtml);
  EXPECT_EQ(TelegramErrorFields(R"({})"), (Fields{"config.chat_id", "config.message_template"}));
  for (const char* bad :
       {R"(123)", R"("12a")", R"("")", R"("-")", R"("0123")", R"("1234567890123456789")"}) {
    EXPECT_EQ(
        TelegramErrorFields(std::string(R"({"chat_id": )") + bad + R"(, "message_template": "m"})"),
        Fields{"config.chat_id"})
        << bad;
  }
  EXPECT_EQ(TelegramErrorFields(R"({"chat_id": "1", "message_template": "{{x}}"})"),
            Fields{"config.message_template"});
  EXPECT_EQ(TelegramErrorFields(R"({"chat_id": "1", "message_template": ""})"),
            Fields{"config.message_template"});
  EXPECT_EQ(TelegramErrorFields(R"({"chat_id": "1", "message_template": "m",
                                    "parse_mode": "Markdown"})"),
            Fields{"config.parse_mode"});
  EXPECT_EQ(TelegramErrorFields(R"({"chat_id": "1", "message_template": "m", "token": "x"})"),
            Fields{"config.token"});
}

// The workers' cache parses like ParseWebhookConfig/ParseTelegramConfig at run time (unknown
// placeholders render empty), keeps failures, and keeps one entry per distinct text.
TEST(ActionConfigTest, CacheReturnsTheRunTimeParse) {
  ActionConfigCache cache;
  const std::string url = R"({"url":"http://x.example/{{future_name}}","timeout_seconds":7})";
  const Result<WebhookConfig>& a = cache.Webhook(url);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->url, "http://x.example/{{future_name}}");
  EXPECT_EQ(a->timeout_seconds, 7);
  EXPECT_FALSE(ParseWebhookConfig(url).ok());  // saved: refused; run: renders empty
  EXPECT_TRUE(cache.Webhook(url).ok());
  EXPECT_EQ(cache.size(), 1u);
  const Result<WebhookConfig>& bad = cache.Webhook(R"({"url":"ftp://x"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            ParseWebhookConfig(R"({"url":"ftp://x"})", nullptr, UnknownPlaceholders::kRenderEmpty)
                .status()
                .message());
  const Result<TelegramConfig>& t =
      cache.Telegram(R"({"chat_id":"-100","message_template":"{{score}}"})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->chat_id, "-100");
  EXPECT_EQ(cache.size(), 3u);
}

// The cache is bounded by the bytes of the texts it holds: past kMaxBytes it starts over.
TEST(ActionConfigTest, CacheIsBounded) {
  ActionConfigCache cache;
  const std::string padding(16 * 1024, 'a');
  size_t most = 0;
  for (int i = 0; i < 400; ++i) {
    std::string config = R"({"url":"http://x.example/)" + std::to_string(i) + padding + R"("})";
    cache.Webhook(config);
    most = std::max(most, cache.size());
  }
  EXPECT_LE(most * (16 * 1024), ActionConfigCache::kMaxBytes);
  EXPECT_GT(most, 100u);
}

}  // namespace
}  // namespace auri::delivery
