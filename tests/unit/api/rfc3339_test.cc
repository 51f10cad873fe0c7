// The RFC 3339 parser of GET /api/v1/events?since=&until= (api/trigger_dto.h).
#include <gtest/gtest.h>

#include "api/trigger_dto.h"

namespace auri::api {
namespace {

TEST(Rfc3339Test, ParsesUtcAndOffsets) {
  EXPECT_EQ(ParseRfc3339Micros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339Micros("2026-01-02T03:04:05Z"), int64_t{1767323045} * 1000000);
  EXPECT_EQ(ParseRfc3339Micros("2026-01-02T05:04:05+02:00"), int64_t{1767323045} * 1000000);
  EXPECT_EQ(ParseRfc3339Micros("2026-01-02T05:04:05 02:00"), int64_t{1767323045} * 1000000);
  EXPECT_EQ(ParseRfc3339Micros("2026-01-02T01:04:05-02:00"), int64_t{1767323045} * 1000000);
  EXPECT_EQ(ParseRfc3339Micros("2026-01-02t03:04:05.5z"), int64_t{1767323045} * 1000000 + 500000);
  EXPECT_EQ(ParseRfc3339Micros("2026-01-02T03:04:05.123456789Z"),
            int64_t{1767323045} * 1000000 + 123456);
  EXPECT_EQ(ParseRfc3339Micros("2024-02-29T00:00:00Z"), int64_t{1709164800} * 1000000);
}

TEST(Rfc3339Test, RejectsMalformedDates) {
  for (const char* bad : {"", "2026-01-02", "2026-01-02T03:04:05", "2026-13-01T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2026-01-02T24:00:00Z", "2026-01-02T03:04:05.Z",
                          "2026-01-02T03:04:05.1234567890Z", "2026-01-02T03:04:05+0200",
                          "2026-01-02T03:04:05Zjunk", "20x6-01-02T03:04:05Z", "1767323045"}) {
    EXPECT_EQ(ParseRfc3339Micros(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace auri::api
