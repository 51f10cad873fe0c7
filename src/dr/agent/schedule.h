#pragma once
// Schedule: when the dr-agent takes a backup (spec 40-dr.md: "full daily, incremental hourly
// (cron-like expressions)"). A small 5-field cron in UTC, plus two forms cron lacks:
//
//   "M H DOM MON DOW"  minute 0-59, hour 0-23, day of month 1-31, month 1-12 (or JAN-DEC), day of
//                      week 0-7 (0 and 7 = Sunday, or SUN-SAT); each field `*`, a value, a range
//                      `a-b`, a step `*/n` or `a-b/n`, or a comma list of those. As in Vixie cron,
//                      when both day fields are restricted a day matching either one fires.
//   @hourly @daily @midnight @weekly @monthly @yearly @annually   the usual shorthands
//   "@every 30s" | "@every 10m" | "@every 2h"   a fixed interval after the previous run (what
//                      cron cannot say below a minute; tests and small deployments use it)
//   "off"             never
//
// Pure and thread-compatible; times are unix seconds.
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"

namespace auri::dr {

class Schedule {
 public:
  // Errors: kInvalidArgument quoting the text and naming the bad field.
  static Result<Schedule> Parse(const std::string& text);

  bool enabled() const { return !off_; }
  const std::string& text() const { return text_; }

  // The first firing time strictly after `after_unix`; nullopt when the schedule is off or never
  // fires within five years (e.g. "0 0 30 2 *").
  std::optional<int64_t> Next(int64_t after_unix) const;

 private:
  std::string text_;
  bool off_ = false;
  int64_t every_seconds_ = 0;  // > 0 for "@every"
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0..6, Sunday = 0
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace auri::dr
