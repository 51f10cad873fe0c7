// Request-body reading: every problem becomes a 4xx with field details, never an exception.
#include "api/json_body.h"

#include <gtest/gtest.h>

namespace auri::api {
namespace {

HttpRequest JsonRequest(std::string body) {
  HttpRequest r;
  r.headers.Add("Content-Type", "application/json; charset=utf-8");
  r.body = std::move(body);
  return r;
}

int StatusOf(const std::variant<nlohmann::json, HttpResponse>& v) {
  return std::holds_alternative<HttpResponse>(v) ? std::get<HttpResponse>(v).status : 200;
}

TEST(ParseJsonObjectTest, RejectsWrongContentTypeMalformedJsonInvalidUtf8AndNonObjects) {
  HttpRequest text = JsonRequest("{}");
  text.headers.Set("Content-Type", "text/plain");
  EXPECT_EQ(StatusOf(ParseJsonObject(text)), 415);
  EXPECT_EQ(StatusOf(ParseJsonObject(JsonRequest("{\"a\":"))), 400);
  EXPECT_EQ(StatusOf(ParseJsonObject(JsonRequest("{\"a\":\"\xff\xfe\"}"))), 400);
  HttpResponse array = std::get<HttpResponse>(ParseJsonObject(JsonRequest("[1]")));
  EXPECT_EQ(array.status, 400);
  EXPECT_NE(array.body.find("validation_error"), std::string::npos);
  EXPECT_EQ(StatusOf(ParseJsonObject(JsonRequest("{\"a\":1}"))), 200);
}

TEST(FieldReaderTest, CollectsEveryBadFieldWithItsPrefix) {
  nlohmann::json body = {
      {"name", ""}, {"count", 1.5}, {"big", 1e300}, {"flag", "yes"}, {"kind", "other"}};
  pipeline::FieldErrors errors;
  FieldReader reader(body, &errors, "items[2].");
  EXPECT_FALSE(reader.String("name", true, 1, 10));
  EXPECT_FALSE(reader.Int("count", true, 0, 10));
  EXPECT_FALSE(reader.Int("big", true, 0, 10));
  EXPECT_FALSE(reader.Bool("flag", true));
  EXPECT_FALSE(reader.Enum("kind", true, {"a", "b"}));
  EXPECT_FALSE(reader.String("missing", true, 1, 10));
  ASSERT_EQ(errors.size(), 6u);
  EXPECT_EQ(errors[0].field, "items[2].name");
  EXPECT_EQ(errors[5].message, "is required");
}

TEST(FieldReaderTest, HugeUnsignedIntegerIsAFieldErrorNotAnOverflow) {
  nlohmann::json body = nlohmann::json::parse(R"({"n": 18446744073709551615})");
  pipeline::FieldErrors errors;
  FieldReader reader(body, &errors);
  EXPECT_FALSE(reader.Int("n", true, 0, INT64_MAX));
  EXPECT_EQ(errors.size(), 1u);
}

TEST(FieldReaderTest, StringLengthCountsCharactersNotBytes) {
  nlohmann::json body = {{"s", "ééé"}};
  pipeline::FieldErrors errors;
  FieldReader reader(body, &errors);
  EXPECT_EQ(reader.String("s", true, 1, 3), "ééé");
  EXPECT_TRUE(errors.empty());
}

TEST(ParsePageTest, DefaultsAndBounds) {
  HttpRequest r;
  Page p = std::get<Page>(ParsePage(r));
  EXPECT_EQ(p.limit, 20);
  EXPECT_EQ(p.offset, 0);
  SetTarget(&r, "/x?limit=101");
  EXPECT_TRUE(std::holds_alternative<HttpResponse>(ParsePage(r)));
  SetTarget(&r, "/x?limit=100&offset=5");
  p = std::get<Page>(ParsePage(r));
  EXPECT_EQ(p.limit, 100);
  EXPECT_EQ(p.offset, 5);
  SetTarget(&r, "/x?offset=-1");
  EXPECT_TRUE(std::holds_alternative<HttpResponse>(ParsePage(r)));
}

}  // namespace
}  // namespace auri::api
