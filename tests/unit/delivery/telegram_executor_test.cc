#include "delivery/telegram_executor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace auri::delivery {
namespace {

using std::chrono::milliseconds;

TEST(TelegramExecutor, BuildsSendMessageWithEscapedText) {
  auto config = ParseTelegramConfig(R"({"chat_id":"-100123","message_template":"tag {{tag1}}"})");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto values = ValuesFromEvent(R"({"tag1":"a_b"})", "t", "n");
  ASSERT_TRUE(values.ok());
  auto r = BuildTelegramRequest(*config, *values, "http://127.0.0.1:9/", "123:ABC");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->url, "http://127.0.0.1:9/bot123:ABC/sendMessage");
  auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["chat_id"], "-100123");
  EXPECT_EQ(body["text"], "tag a\\_b");
  EXPECT_EQ(body["parse_mode"], "MarkdownV2");
}

TEST(TelegramExecutor, MissingTokenIsAClearPermanentError) {
  auto config = ParseTelegramConfig(R"({"chat_id":"1","message_template":"x"})");
  ASSERT_TRUE(config.ok());
  auto r = BuildTelegramRequest(*config, {}, "http://127.0.0.1:9", "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("telegram-bot-token"), std::string::npos);
}

TEST(TelegramExecutor, HtmlAndPlainModes) {
  auto values = ValuesFromEvent(R"({"tag1":"<a_b>"})", "t", "n");
  ASSERT_TRUE(values.ok());
  auto html = ParseTelegramConfig(
      R"({"chat_id":"1","message_template":"<b>{{tag1}}</b>","parse_mode":"HTML"})");
  ASSERT_TRUE(html.ok());
  auto r = BuildTelegramRequest(*html, *values, "http://127.0.0.1:9", "1:T");
  ASSERT_TRUE(r.ok());
  auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["text"], "<b>&lt;a_b&gt;</b>");
  EXPECT_EQ(body["parse_mode"], "HTML");
  auto plain =
      ParseTelegramConfig(R"({"chat_id":"1","message_template":"{{tag1}}","parse_mode":"plain"})");
  ASSERT_TRUE(plain.ok());
  r = BuildTelegramRequest(*plain, *values, "http://127.0.0.1:9", "1:T");
  ASSERT_TRUE(r.ok());
  body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["text"], "<a_b>");
  EXPECT_FALSE(body.contains("parse_mode"));
}

TEST(TelegramExecutor, HonoursRetryAfterOf429) {
  HttpResult r;
  r.transport_ok = true;
  r.status = 429;
  r.body = R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7",)"
           R"("parameters":{"retry_after":7}})";
  AttemptOutcome o = ClassifyTelegramResult(r, 0);
  EXPECT_EQ(o.failure, AttemptFailure::kHttpStatus);
  ASSERT_TRUE(o.retry_after.has_value());
  EXPECT_EQ(*o.retry_after, std::chrono::seconds(7));
  EXPECT_NE(o.error.find("Too Many Requests"), std::string::npos);
}

TEST(TelegramRateLimiter, OnePerSecondPerChat) {
  TelegramRateLimiter limiter;
  auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(limiter.TryAcquire("1", t0), milliseconds(0));
  EXPECT_EQ(limiter.TryAcquire("1", t0 + milliseconds(400)), milliseconds(600));
  EXPECT_EQ(limiter.TryAcquire("2", t0 + milliseconds(400)), milliseconds(0));
  EXPECT_EQ(limiter.TryAcquire("1", t0 + milliseconds(1000)), milliseconds(0));
}

TEST(TelegramRateLimiter, ThirtyPerSecondOverall) {
  TelegramRateLimiter limiter;
  auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  for (int i = 0; i < 30; ++i)
    EXPECT_EQ(limiter.TryAcquire(std::to_string(i), t0), milliseconds(0));
  EXPECT_EQ(limiter.TryAcquire("31", t0 + milliseconds(100)), milliseconds(900));
  EXPECT_EQ(limiter.TryAcquire("31", t0 + milliseconds(1000)), milliseconds(0));
}

}  // namespace
}  // namespace auri::delivery
