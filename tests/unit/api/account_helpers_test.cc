// Helpers of the account routes that need no database: RFC 3339 parsing for API-key expiry and
// the auth.argon2 option's names.
#include <gtest/gtest.h>

#include "api/account_handlers.h"
#include "auth/password.h"

namespace auri::api {
namespace {

TEST(ParseRfc3339MsTest, AcceptsUtcAndOffsetsWithOptionalFraction) {
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339Ms("2027-01-31T12:00:00Z"), int64_t{1801396800} * 1000);
  EXPECT_EQ(ParseRfc3339Ms("2027-01-31T14:00:00.250+02:00"), int64_t{1801396800} * 1000 + 250);
  EXPECT_EQ(ParseRfc3339Ms("2027-01-31T11:30:00-00:30"), int64_t{1801396800} * 1000);
  EXPECT_EQ(ParseRfc3339Ms("2024-02-29T00:00:00.123456789Z"), int64_t{1709164800} * 1000 + 123);
}

TEST(ParseRfc3339MsTest, RefusesMalformedAndOutOfRangeText) {
  for (const char* bad :
       {"", "tomorrow", "2027-01-31", "2027-01-31T12:00:00", "2027-01-31 12:00:00Z",
        "2027-13-01T00:00:00Z", "2027-02-29T00:00:00Z", "2027-01-31T24:00:00Z",
        "2027-01-31T12:00:00.Z", "2027-01-31T12:00:00+2:00", "1969-12-31T23:59:59Z",
        "2027-01-31T12:00:00Zjunk", "+2027-01-31T12:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339Ms(bad).has_value()) << bad;
  }
}

TEST(Argon2LimitsByNameTest, KnowsTheThreeConfiguredNames) {
  EXPECT_EQ(Argon2LimitsByName("interactive"), Argon2Limits::Interactive());
  EXPECT_EQ(Argon2LimitsByName("moderate"), Argon2Limits::Moderate());
  EXPECT_EQ(Argon2LimitsByName("minimum"), Argon2Limits::Minimum());
  EXPECT_FALSE(Argon2LimitsByName("Interactive").has_value());
  EXPECT_FALSE(Argon2LimitsByName("").has_value());
}

}  // namespace
}  // namespace auri::api
