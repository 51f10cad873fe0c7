#pragma once
// Rendering action templates at delivery time (spec 30-delivery.md, "Templates"): `{{name}}`
// placeholders filled from the event snapshot, escaped for where they land. Placeholder NAMES are
// validated when an action is saved (template.h, another module); here an unknown name simply
// renders empty like a missing value, so a job snapshot from an older version still delivers.
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace auri::delivery {

// One placeholder value: its text, and whether it is a JSON number (so a JSON body keeps the type).
struct TemplateValue {
  std::string text;
  bool is_number = false;
};
using TemplateValues = std::map<std::string, TemplateValue, std::less<>>;

// The values of one job: every field of the event snapshot (`event_json`, a JSON object), with
// `timestamp` rendered as "YYYY-MM-DD HH:MM:SS UTC", `timestamp_unix` and `event_id` added, plus
// trigger_id and trigger_name. Errors: kInvalidArgument when event_json is not a JSON object.
Result<TemplateValues> ValuesFromEvent(std::string_view event_json, std::string_view trigger_id,
                                       std::string_view trigger_name);

enum class Escape { kNone, kMarkdownV2, kHtml, kUrl };  // kUrl: percent-encode (RFC 3986)

constexpr size_t kMaxTemplateBytes = 4096;

// Replaces every `{{name}}` (spaces inside the braces allowed) in `text` with the value, escaped.
// A missing value renders empty. Errors: kInvalidArgument when the template or the output exceeds
// 4,096 bytes, or a `{{` is never closed.
Result<std::string> RenderText(std::string_view text, const TemplateValues& values, Escape escape);

// Renders a JSON body template: `body_json` is JSON text (an object, array or scalar). Strings are
// rendered with RenderText (the JSON writer escapes them); a string that is exactly one
// placeholder takes the value's JSON type (a number stays a number). An empty `body_json` means
// the default body: the event object plus "trigger_id" and "trigger_name". Returns compact JSON.
// Errors: kInvalidArgument for invalid JSON or the RenderText limits (output ≤ 4,096 bytes does
// not apply to the default body, which is bounded by the event's own size).
Result<std::string> RenderJsonBody(std::string_view body_json, std::string_view event_json,
                                   const TemplateValues& values);

// Escaping for Telegram parse modes (exposed for tests).
std::string EscapeMarkdownV2(std::string_view text);
std::string EscapeHtml(std::string_view text);
std::string PercentEncode(std::string_view text);

}  // namespace auri::delivery
