// Action templates (spec 30-delivery.md, "Templates"): parsing, the known names, rendering with
// escaping.
#include "delivery/template.h"

#include <gtest/gtest.h>

#include <map>

namespace auri::delivery {
namespace {

std::optional<std::string> Lookup(std::string_view name) {
  static const std::map<std::string, std::string, std::less<>> kValues = {
      {"tag1", "a_b"}, {"score", "42"}, {"trigger_name", "<x & \"y\">"}};
  auto it = kValues.find(name);
  if (it == kValues.end()) return std::nullopt;
  return it->second;
}

TEST(TemplateTest, SplitsLiteralsAndPlaceholders) {
  Result<ParsedTemplate> t = ParseTemplate("score {{score}} for {{ agent_id }}!");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::vector<TemplatePart> expected = {
      {false, "score "}, {true, "score"}, {false, " for "}, {true, "agent_id"}, {false, "!"}};
  EXPECT_EQ(t->parts, expected);
  EXPECT_FALSE(t->IsSinglePlaceholder());
}

TEST(TemplateTest, EveryNameOfTheSpecIsAccepted) {
  for (std::string_view name : kTemplatePlaceholderNames) {
    EXPECT_TRUE(ParseTemplate("{{" + std::string(name) + "}}").ok()) << name;
  }
  EXPECT_EQ(kTemplatePlaceholderNames.size(), 30u);
}

TEST(TemplateTest, UnknownNameIsRejectedWithItsName) {
  Result<ParsedTemplate> t = ParseTemplate("hello {{scoer}}");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("unknown placeholder {{scoer}}"), std::string::npos)
      << t.status().message();
}

// When a job runs, an unknown name is a placeholder no value fills (spec: unknown names are
// rejected when the action is saved, not when it runs); malformed ones are still errors.
TEST(TemplateTest, RunTimeParsingRendersUnknownNamesEmpty) {
  Result<ParsedTemplate> t = ParseTemplate("a{{scoer}}b", UnknownPlaceholders::kRenderEmpty);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*RenderTemplate(*t, Lookup, TemplateEscape::kNone), "ab");
  EXPECT_FALSE(ParseTemplate("{{Score}}", UnknownPlaceholders::kRenderEmpty).ok());
  EXPECT_FALSE(ParseTemplate("{{score", UnknownPlaceholders::kRenderEmpty).ok());
}

TEST(TemplateTest, UnclosedAndMalformedPlaceholdersAreRejected) {
  EXPECT_FALSE(ParseTemplate("hello {{score").ok());
  EXPECT_FALSE(ParseTemplate("{{}}").ok());
  EXPECT_FALSE(ParseTemplate("{{Score}}").ok());
  EXPECT_FALSE(ParseTemplate("{{score tag1}}").ok());
  EXPECT_NE(ParseTemplate("x {{score").status().message().find("unclosed"), std::string::npos);
}

TEST(TemplateTest, SingleBracesAndPlainTextAreLiteral) {
  Result<ParsedTemplate> t = ParseTemplate("{\"a\": 1} } {");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->parts.size(), 1u);
  EXPECT_EQ(t->parts[0].text, "{\"a\": 1} } {");
  EXPECT_TRUE(ParseTemplate("").ok());
}

TEST(TemplateTest, SinglePlaceholderIsDetected) {
  EXPECT_TRUE(ParseTemplate("{{score}}")->IsSinglePlaceholder());
  EXPECT_FALSE(ParseTemplate(" {{score}}")->IsSinglePlaceholder());
}

TEST(TemplateTest, TemplatesOverTheLimitAreRejected) {
  EXPECT_TRUE(ParseTemplate(std::string(kMaxTemplateBytes, 'x')).ok());
  EXPECT_FALSE(ParseTemplate(std::string(kMaxTemplateBytes + 1, 'x')).ok());
}

TEST(TemplateTest, RendersWithMissingValuesEmpty) {
  Result<std::string> out =
      RenderTemplate(*ParseTemplate("s={{score}} o={{owner}}."), Lookup, TemplateEscape::kNone);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "s=42 o=.");
}

TEST(TemplateTest, MarkdownV2EscapesValuesNotTheTemplate) {
  Result<std::string> out =
      RenderTemplate(*ParseTemplate("*tag*: {{tag1}}"), Lookup, TemplateEscape::kMarkdownV2);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "*tag*: a\\_b");
}

TEST(TemplateTest, HtmlAndJsonEscaping) {
  EXPECT_EQ(
      *RenderTemplate(*ParseTemplate("<b>{{trigger_name}}</b>"), Lookup, TemplateEscape::kHtml),
      "<b>&lt;x &amp; &quot;y&quot;&gt;</b>");
  EXPECT_EQ(EscapeTemplateValue("a\"b\\c\n\x01", TemplateEscape::kJsonString),
            "a\\\"b\\\\c\\n\\u0001");
  EXPECT_EQ(EscapeTemplateValue("a b&c~-._/", TemplateEscape::kUrl), "a%20b%26c~-._%2F");
}

TEST(TemplateTest, RenderedOutputOverTheLimitFails) {
  auto big = [](std::string_view) { return std::optional<std::string>(std::string(3000, 'v')); };
  EXPECT_FALSE(RenderTemplate(*ParseTemplate("{{tag1}}{{tag2}}"), big, TemplateEscape::kNone).ok());
}

}  // namespace
}  // namespace auri::delivery
