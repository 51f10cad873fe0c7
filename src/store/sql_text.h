#pragma once
// SQL fragments the account repositories share (internal to src/store).
#include <string>
#include <string_view>
#include <vector>

namespace auri::store_internal {

// `column` rendered as RFC 3339 UTC text with milliseconds ("2026-11-26T00:48:04.123Z"); NULL
// stays NULL. `column` is a trusted SQL expression written in this folder, never input.
inline std::string Rfc3339Sql(std::string_view column) {
  return "to_char(" + std::string(column) +
         " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

// Parses a PostgreSQL text[] literal of plain words ({read,write}); used for permission names,
// which the table's CHECK limits to four unquoted words.
inline std::vector<std::string> ParseWordArray(const std::string& literal) {
  std::vector<std::string> out;
  std::string current;
  for (char c : literal) {
    if (c == '{' || c == '}' || c == '"') continue;
    if (c == ',') {
      if (!current.empty()) out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

// The text[] literal of plain words. REQUIRES: every word is [a-z]+ (checked by the caller).
inline std::string WordArrayLiteral(const std::vector<std::string>& words) {
  std::string out = "{";
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += ',';
    out += words[i];
  }
  return out + "}";
}

}  // namespace auri::store_internal
