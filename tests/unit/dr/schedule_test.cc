// The dr-agent's backup schedule: 5-field cron in UTC, shorthands, @every, off.
#include "dr/agent/schedule.h"

#include <gtest/gtest.h>

#include "dr/restore/restore_instance.h"

namespace auri::dr {
namespace {

int64_t At(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t / 1000000 : 0;
}

std::string NextAfter(const std::string& expr, const std::string& after) {
  auto s = Schedule::Parse(expr);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return "parse error";
  auto next = s->Next(At(after));
  return next ? FormatRfc3339(*next * 1000000).substr(0, 19) : "never";
}

TEST(ScheduleTest, DailyAtThreeFiresTheSameDayWhenBeforeAndTheNextDayWhenAfter) {
  EXPECT_EQ(NextAfter("0 3 * * *", "2026-03-10T01:15:00Z"), "2026-03-10T03:00:00");
  EXPECT_EQ(NextAfter("0 3 * * *", "2026-03-10T03:00:00Z"), "2026-03-11T03:00:00");
  EXPECT_EQ(NextAfter("@daily", "2026-12-31T23:59:59Z"), "2027-01-01T00:00:00");
}

TEST(ScheduleTest, HourlyFiresAtTheNextWholeHour) {
  EXPECT_EQ(NextAfter("0 * * * *", "2026-03-10T01:15:30Z"), "2026-03-10T02:00:00");
  EXPECT_EQ(NextAfter("@hourly", "2026-03-10T23:00:00Z"), "2026-03-11T00:00:00");
}

TEST(ScheduleTest, StepsRangesAndListsCombine) {
  EXPECT_EQ(NextAfter("*/15 * * * *", "2026-03-10T01:16:00Z"), "2026-03-10T01:30:00");
  EXPECT_EQ(NextAfter("5,35 9-17 * * *", "2026-03-10T17:40:00Z"), "2026-03-11T09:05:00");
  EXPECT_EQ(NextAfter("10-50/20 * * * *", "2026-03-10T01:31:00Z"), "2026-03-10T01:50:00");
  EXPECT_EQ(NextAfter("5/20 * * * *", "2026-03-10T01:46:00Z"), "2026-03-10T02:05:00");
}

TEST(ScheduleTest, DayOfWeekAndMonthNames) {
  // 2026-03-10 is a Tuesday.
  EXPECT_EQ(NextAfter("30 2 * * sun", "2026-03-10T00:00:00Z"), "2026-03-15T02:30:00");
  EXPECT_EQ(NextAfter("30 2 * * 7", "2026-03-10T00:00:00Z"), "2026-03-15T02:30:00");
  EXPECT_EQ(NextAfter("0 0 1 jun *", "2026-03-10T00:00:00Z"), "2026-06-01T00:00:00");
  EXPECT_EQ(NextAfter("0 4 * * mon-fri", "2026-03-13T05:00:00Z"), "2026-03-16T04:00:00");
}

TEST(ScheduleTest, RestrictedDayOfMonthAndDayOfWeekFireOnEither) {
  // The 15th or any Monday: from Tuesday the 10th, Sunday the 15th comes first, then Monday 16th.
  EXPECT_EQ(NextAfter("0 0 15 * 1", "2026-03-10T00:00:00Z"), "2026-03-15T00:00:00");
  EXPECT_EQ(NextAfter("0 0 15 * 1", "2026-03-15T00:00:00Z"), "2026-03-16T00:00:00");
}

TEST(ScheduleTest, LeapDayAndImpossibleDates) {
  EXPECT_EQ(NextAfter("0 0 29 2 *", "2026-03-01T00:00:00Z"), "2028-02-29T00:00:00");
  EXPECT_EQ(NextAfter("0 0 30 2 *", "2026-03-01T00:00:00Z"), "never");
}

TEST(ScheduleTest, EveryIsAnIntervalAfterThePreviousRun) {
  auto s = Schedule::Parse("@every 30s");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Next(1000), 1030);
  EXPECT_EQ(Schedule::Parse("@every 10m")->Next(0), 600);
  EXPECT_EQ(Schedule::Parse("@every 2h")->Next(0), 7200);
}

TEST(ScheduleTest, OffNeverFires) {
  auto s = Schedule::Parse("off");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->enabled());
  EXPECT_FALSE(s->Next(0).has_value());
}

TEST(ScheduleTest, MalformedExpressionsAreRejectedNamingTheField) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& c : {Case{"0 3 * *", "expected 5 fields"}, Case{"60 * * * *", "minute field"},
                        Case{"0 24 * * *", "hour field"}, Case{"0 0 0 * *", "day-of-month"},
                        Case{"0 0 * 13 *", "month field"}, Case{"0 0 * * 8", "day-of-week"},
                        Case{"*/0 * * * *", "minute field"}, Case{"5-1 * * * *", "minute field"},
                        Case{"@every 10x", "unit"}, Case{"@every", "duration"},
                        Case{"@sometimes", "unknown shorthand"}}) {
    auto s = Schedule::Parse(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.expect), std::string::npos)
        << c.text << ": " << s.status().message();
  }
}

}  // namespace
}  // namespace auri::dr
