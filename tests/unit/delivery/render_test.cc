#include "delivery/render.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace auri::delivery {
namespace {

const char* kEvent =
    R"({"id":"ev-1","event_type":"NewFeedback","agent_id":42,"score":87,"tag1":"fast_and_good",)"
    R"("timestamp":1700000000,"owner":null})";

TemplateValues Values() {
  auto v = ValuesFromEvent(kEvent, "trig-1", "My <trigger>");
  EXPECT_TRUE(v.ok());
  return *v;
}

TEST(Render, SubstitutesPlaceholdersAndLeavesMissingEmpty) {
  auto out = RenderText("agent {{agent_id}} {{ event_type }} owner=[{{owner}}] {{nope}}.", Values(),
                        TemplateEscape::kNone);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "agent 42 NewFeedback owner=[] .");
}

TEST(Render, TimestampIsRenderedInUtcAndUnix) {
  auto out = RenderText("{{timestamp}} / {{timestamp_unix}}", Values(), TemplateEscape::kNone);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "2023-11-14 22:13:20 UTC / 1700000000");
}

// Regression (spec "fix"): the original did not escape, so a tag with `_` broke Telegram messages.
TEST(Render, MarkdownV2EscapesSubstitutedValuesOnly) {
  auto out = RenderText("*tag*: {{tag1}}", Values(), TemplateEscape::kMarkdownV2);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "*tag*: fast\\_and\\_good");
  EXPECT_EQ(EscapeTemplateValue("a.b!c(d)", TemplateEscape::kMarkdownV2), "a\\.b\\!c\\(d\\)");
}

TEST(Render, HtmlEscapesSubstitutedValues) {
  auto out = RenderText("<b>{{trigger_name}}</b>", Values(), TemplateEscape::kHtml);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "<b>My &lt;trigger&gt;</b>");
}

TEST(Render, JsonBodyKeepsNumberTypeForSolePlaceholder) {
  auto out = RenderJsonBody(R"({"agent":"{{agent_id}}","text":"score {{score}}","t":"{{tag1}}"})",
                            kEvent, Values());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto j = nlohmann::json::parse(*out);
  EXPECT_TRUE(j["agent"].is_number());
  EXPECT_EQ(j["agent"], 42);
  EXPECT_EQ(j["text"], "score 87");
  EXPECT_EQ(j["t"], "fast_and_good");
}

TEST(Render, JsonBodyEscapesQuotesInValues) {
  auto v = ValuesFromEvent(R"({"tag1":"a\"b\\c"})", "t", "n");
  ASSERT_TRUE(v.ok());
  auto out = RenderJsonBody(R"({"x":"[{{tag1}}]"})", "{}", *v);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(nlohmann::json::parse(*out)["x"], "[a\"b\\c]");
}

TEST(Render, DefaultBodyIsTheEventPlusTrigger) {
  auto out = RenderJsonBody("", kEvent, Values());
  ASSERT_TRUE(out.ok());
  auto j = nlohmann::json::parse(*out);
  EXPECT_EQ(j["agent_id"], 42);
  EXPECT_EQ(j["trigger_id"], "trig-1");
  EXPECT_EQ(j["trigger_name"], "My <trigger>");
}

TEST(Render, UrlValuesArePercentEncoded) {
  auto v = ValuesFromEvent(R"({"tag1":"a b/c?d=é"})", "t", "n");
  ASSERT_TRUE(v.ok());
  auto out = RenderText("https://x.example/t/{{tag1}}", *v, TemplateEscape::kUrl);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "https://x.example/t/a%20b%2Fc%3Fd%3D%C3%A9");
}

// Body keys are templates like the values (the config parser validates them as templates).
TEST(Render, JsonBodyKeysAreRendered) {
  auto out = RenderJsonBody(R"({"agent_{{agent_id}}":{"n":["{{score}}"]}})", kEvent, Values());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, R"({"agent_42":{"n":[87]}})");
}

// A malformed placeholder is a template error when the job runs too (the job goes dead).
TEST(Render, MalformedPlaceholderFailsAtRunTime) {
  EXPECT_FALSE(RenderText("x {{Agent Id}}", Values(), TemplateEscape::kNone).ok());
  EXPECT_FALSE(RenderJsonBody(R"({"a":"{{score"})", kEvent, Values()).ok());
}

TEST(Render, OutputOverLimitIsRejected) {
  TemplateValues v;
  v["big"] = {std::string(3000, 'x'), false};
  auto out = RenderText("{{big}}{{big}}", v, TemplateEscape::kNone);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("4096"), std::string::npos);
  EXPECT_FALSE(RenderText(std::string(4097, 'a'), v, TemplateEscape::kNone).ok());
  EXPECT_FALSE(RenderText("{{unclosed", v, TemplateEscape::kNone).ok());
}

// The workers' one-parse path gives exactly the values and the default body of the two-parse one,
// also for an event that has its own trigger_id/event_id members and nested values.
TEST(Render, OneParseGivesTheSameValuesAndDefaultBody) {
  const char* events[] = {
      kEvent,
      R"({"id":"ev-2","trigger_id":"from-event","event_id":"own","nested":{"b":[1,"x"]},)"
      R"("f":1.5,"t":true,"u":"\u00e9\/","timestamp":"not a number"})",
      "{}",
  };
  for (const char* event : events) {
    auto plain = ValuesFromEvent(event, "trig-1", "My <trigger>");
    ASSERT_TRUE(plain.ok()) << event;
    std::string body;
    auto one = ValuesFromEvent(event, "trig-1", "My <trigger>", &body);
    ASSERT_TRUE(one.ok()) << event;
    ASSERT_EQ(one->size(), plain->size()) << event;
    for (const auto& [name, value] : *plain) {
      auto it = one->find(name);
      ASSERT_NE(it, one->end()) << name;
      EXPECT_EQ(it->second.text, value.text) << name;
      EXPECT_EQ(it->second.is_number, value.is_number) << name;
    }
    auto two = RenderJsonBody("", event, *plain);
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(body, *two) << event;
  }
  std::string body;
  EXPECT_FALSE(ValuesFromEvent("[1]", "t", "n", &body).ok());
}

}  // namespace
}  // namespace auri::delivery
