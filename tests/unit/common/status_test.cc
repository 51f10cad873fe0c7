#include "common/status.h"

#include <gtest/gtest.h>

#include "common/result.h"

namespace auri {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgument("value must be positive", "pass a number above 0");
  return v;
}

Status Doubled(int v, int* out) {
  ASSIGN_OR_RETURN(int parsed, ParsePositive(v));
  *out = parsed * 2;
  return Status::Ok();
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, ToStringShowsCodeMessageAndHint) {
  Status s = Unavailable("cannot connect to postgresql at 127.0.0.1:5432", "is it running?");
  EXPECT_EQ(s.ToString(),
            "unavailable: cannot connect to postgresql at 127.0.0.1:5432\nhint: is it running?");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = NotFound("no such file").WithContext("loading secrets");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "loading secrets: no such file");
}

TEST(ResultTest, AssignOrReturnPropagatesFailure) {
  int out = 0;
  Status s = Doubled(-1, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.hint(), "pass a number above 0");
  EXPECT_EQ(out, 0);
}

TEST(ResultTest, AssignOrReturnUnwrapsValue) {
  int out = 0;
  ASSERT_TRUE(Doubled(21, &out).ok());
  EXPECT_EQ(out, 42);
}

TEST(ResultTest, ConstructingFromOkStatusBecomesInternalError) {
  Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace auri
