#pragma once
// Action templates (spec 30-delivery.md, "Templates"): `{{name}}` placeholders naming event and
// trigger fields. The one template model of Auri: the API parses with it to refuse a bad template
// when an action is saved, and the delivery workers parse and render with it when a job runs.
//
// Syntax, decided here once: a placeholder is "{{", optional spaces, a name, optional spaces,
// "}}". A name is lowercase letters, digits and '_'. Text outside placeholders is literal; there
// is no escape for a literal "{{" (a "{{" that does not start a valid placeholder is an error, so
// a typo never reaches a receiver as raw braces). Single braces are plain text.
//
// Names: when an action is saved every name must be one of kTemplatePlaceholderNames. When a job
// runs, the spec says an unknown name is "rejected when the action is saved, not when it runs":
// the workers parse with UnknownPlaceholders::kRenderEmpty, so a name this version does not know
// (a snapshot written by a newer version) renders empty like a missing value.
//
// Thread-safety: everything here is reentrant; ParsedTemplate is an immutable value.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace auri::delivery {

// Templates and rendered output are at most this many bytes (spec 30-delivery.md).
inline constexpr size_t kMaxTemplateBytes = 4096;

// Every name a template may use, in the order of spec 30-delivery.md.
inline constexpr std::array<std::string_view, 30> kTemplatePlaceholderNames = {
    "event_id",       "event_type",
    "registry",       "chain_id",
    "block_number",   "transaction_hash",
    "log_index",      "timestamp",
    "timestamp_unix", "agent_id",
    "owner",          "token_uri",
    "score",          "client_address",
    "feedback_index", "tag1",
    "tag2",           "file_uri",
    "file_hash",      "validator_address",
    "request_uri",    "request_hash",
    "response",       "response_uri",
    "response_hash",  "tag",
    "metadata_key",   "metadata_value",
    "trigger_id",     "trigger_name",
};

bool IsTemplatePlaceholderName(std::string_view name);

// A template split into literal text and placeholders, in order.
struct TemplatePart {
  bool is_placeholder = false;
  std::string text;  // the literal text, or the placeholder's name (spaces trimmed)
  bool operator==(const TemplatePart&) const = default;
};

struct ParsedTemplate {
  std::vector<TemplatePart> parts;
  // True when the template is exactly one placeholder (a JSON body string that is exactly one
  // placeholder takes the value's JSON type).
  bool IsSinglePlaceholder() const { return parts.size() == 1 && parts[0].is_placeholder; }
};

// What ParseTemplate does with a well-formed name that is not in kTemplatePlaceholderNames.
enum class UnknownPlaceholders {
  kReject,       // an error: when an action is saved
  kRenderEmpty,  // kept as a placeholder that no value fills: when a job runs
};

// Parses `text`. Errors (kInvalidArgument, lowercase message naming the problem and the position
// or name): longer than kMaxTemplateBytes; "{{" without a closing "}}"; an empty or malformed
// name; with kReject, an unknown name (the message says where to find the valid ones).
Result<ParsedTemplate> ParseTemplate(std::string_view text,
                                     UnknownPlaceholders unknown = UnknownPlaceholders::kReject);

// How rendered values are escaped for their target (spec 30-delivery.md): none (plain text),
// Telegram MarkdownV2, Telegram HTML, the inside of a JSON string, or a URL (percent-encoding of
// everything but RFC 3986 unreserved characters).
enum class TemplateEscape { kNone, kMarkdownV2, kHtml, kJsonString, kUrl };

// `value` escaped for `escape`.
std::string EscapeTemplateValue(std::string_view value, TemplateEscape escape);

// Renders `parsed`: literal text as is, each placeholder as lookup(name) escaped with `escape`; a
// name lookup does not know (nullopt) renders as empty. Errors: kInvalidArgument when the output
// would exceed kMaxTemplateBytes.
Result<std::string> RenderTemplate(
    const ParsedTemplate& parsed,
    const std::function<std::optional<std::string>(std::string_view name)>& lookup,
    TemplateEscape escape);

}  // namespace auri::delivery
