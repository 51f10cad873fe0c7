#include "dr/agent/schedule.h"

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <sstream>
#include <vector>

namespace auri::dr {
namespace {

const char* const kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A number, or a month/day name when `names` is given (its index + `name_base`).
bool ParseValue(const std::string& text, const char* const* names, int name_count, int name_base,
                int* out) {
  if (text.empty()) return false;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (*end != '\0' || v > 1000) return false;
    *out = static_cast<int>(v);
    return true;
  }
  for (int i = 0; names && i < name_count; ++i) {
    if (Lower(text) == names[i]) {
      *out = i + name_base;
      return true;
    }
  }
  return false;
}

// One field: sets bits lo..hi in `bits` (indexed by value). Returns false on a bad field.
template <size_t N>
bool ParseField(const std::string& field, int lo, int hi, const char* const* names, int name_count,
                int name_base, std::bitset<N>* bits, bool* restricted) {
  *restricted = field != "*" && field != "?";
  std::stringstream items(field);
  std::string item;
  bool any = false;
  while (std::getline(items, item, ',')) {
    any = true;
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      if (!ParseValue(item.substr(slash + 1), nullptr, 0, 0, &step) || step < 1) return false;
      item = item.substr(0, slash);
    }
    int from = lo, to = hi;
    if (item == "*" || item == "?") {
      // the whole range
    } else if (auto dash = item.find('-'); dash != std::string::npos) {
      if (!ParseValue(item.substr(0, dash), names, name_count, name_base, &from) ||
          !ParseValue(item.substr(dash + 1), names, name_count, name_base, &to)) {
        return false;
      }
    } else {
      if (!ParseValue(item, names, name_count, name_base, &from)) return false;
      // "5/15" means from 5 to the end, every 15.
      to = step > 1 ? hi : from;
    }
    if (from < lo || to > hi || from > to) return false;
    for (int v = from; v <= to; v += step) bits->set(static_cast<size_t>(v));
  }
  return any;
}

}  // namespace

Result<Schedule> Schedule::Parse(const std::string& raw) {
  Schedule s;
  s.text_ = raw;
  std::string text = Lower(raw);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.erase(0, 1);
  auto bad = [&](const std::string& why) {
    return InvalidArgument("bad schedule '" + raw + "': " + why,
                           "use 5 cron fields in UTC (\"0 3 * * *\" = daily at 03:00), "
                           "@hourly, @daily, \"@every 10m\" or \"off\"");
  };
  if (text == "off" || text == "none" || text == "never") {
    s.off_ = true;
    return s;
  }
  if (text.rfind("@every", 0) == 0) {
    std::string amount = text.substr(6);
    while (!amount.empty() && amount.front() == ' ') amount.erase(0, 1);
    if (amount.size() < 2) return bad("expected a duration like 30s, 10m or 2h");
    char unit = amount.back();
    int n = 0;
    if (!ParseValue(amount.substr(0, amount.size() - 1), nullptr, 0, 0, &n) || n < 1) {
      return bad("expected a positive duration like 30s, 10m or 2h");
    }
    int64_t scale = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 0;
    if (scale == 0) return bad("the unit of @every must be s, m or h");
    s.every_seconds_ = n * scale;
    return s;
  }
  if (text == "@hourly") text = "0 * * * *";
  if (text == "@daily" || text == "@midnight") text = "0 0 * * *";
  if (text == "@weekly") text = "0 0 * * 0";
  if (text == "@monthly") text = "0 0 1 * *";
  if (text == "@yearly" || text == "@annually") text = "0 0 1 1 *";
  if (!text.empty() && text[0] == '@') return bad("unknown shorthand");

  std::vector<std::string> fields;
  std::istringstream in(text);
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    return bad("expected 5 fields (minute hour day-of-month month day-of-week), got " +
               std::to_string(fields.size()));
  }
  bool restricted = false;
  if (!ParseField(fields[0], 0, 59, nullptr, 0, 0, &s.minutes_, &restricted)) {
    return bad("minute field '" + fields[0] + "' (0-59)");
  }
  if (!ParseField(fields[1], 0, 23, nullptr, 0, 0, &s.hours_, &restricted)) {
    return bad("hour field '" + fields[1] + "' (0-23)");
  }
  if (!ParseField(fields[2], 1, 31, nullptr, 0, 0, &s.days_, &s.days_restricted_)) {
    return bad("day-of-month field '" + fields[2] + "' (1-31)");
  }
  if (!ParseField(fields[3], 1, 12, kMonthNames, 12, 1, &s.months_, &restricted)) {
    return bad("month field '" + fields[3] + "' (1-12 or jan-dec)");
  }
  std::bitset<8> weekdays;
  if (!ParseField(fields[4], 0, 7, kDayNames, 7, 0, &weekdays, &s.weekdays_restricted_)) {
    return bad("day-of-week field '" + fields[4] + "' (0-7 or sun-sat)");
  }
  for (int d = 0; d < 7; ++d) s.weekdays_[d] = weekdays[d] || (d == 0 && weekdays[7]);
  return s;
}

std::optional<int64_t> Schedule::Next(int64_t after_unix) const {
  if (off_) return std::nullopt;
  if (every_seconds_ > 0) return after_unix + every_seconds_;
  const int64_t limit = after_unix + int64_t{5} * 366 * 86400;
  int64_t t = (after_unix / 60 + 1) * 60;  // the next whole minute
  while (t <= limit) {
    time_t secs = static_cast<time_t>(t);
    struct tm tm {};
    gmtime_r(&secs, &tm);
    if (!months_[tm.tm_mon + 1]) {
      // Jump to the first minute of the next month.
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = static_cast<int64_t>(timegm(&tm));
      continue;
    }
    bool day = days_[tm.tm_mday];
    bool weekday = weekdays_[tm.tm_wday];
    bool day_ok = days_restricted_ && weekdays_restricted_ ? (day || weekday) : (day && weekday);
    if (!day_ok) {
      t += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60);
      continue;
    }
    if (!hours_[tm.tm_hour]) {
      t += 3600 - tm.tm_min * 60;
      continue;
    }
    if (!minutes_[tm.tm_min]) {
      t += 60;
      continue;
    }
    return t;
  }
  return std::nullopt;
}

}  // namespace auri::dr
