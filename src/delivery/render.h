#pragma once
// Rendering action templates when a job runs (spec 30-delivery.md, "Templates"): the values of one
// job (its event snapshot and trigger), filled into templates of the one template model
// (template.h). Names are parsed with UnknownPlaceholders::kRenderEmpty: the spec rejects unknown
// names when an action is saved, not when it runs, so a name this version does not know renders
// empty like a missing value.
//
// Thread-safety: reentrant functions over values.
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "delivery/template.h"

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
// The same, and the default webhook body (what RenderJsonBody("", event_json, values) returns) in
// `*default_body`, from one parse of `event_json`: the workers' path, where the snapshot would
// otherwise be parsed once for the values and again for the body.
Result<TemplateValues> ValuesFromEvent(std::string_view event_json, std::string_view trigger_id,
                                       std::string_view trigger_name, std::string* default_body);

// Renders the template `text` with `values`, each value escaped with `escape`; a missing or
// unknown name renders empty. Errors (kInvalidArgument): those of ParseTemplate (too long,
// unclosed or malformed placeholder) and RenderTemplate (output over kMaxTemplateBytes).
Result<std::string> RenderText(std::string_view text, const TemplateValues& values,
                               TemplateEscape escape);

// Renders a JSON body template: `body_json` is JSON text (an object or array). Every string, keys
// included, is rendered with RenderText without escaping (the JSON writer escapes); a value string
// that is exactly one placeholder takes the value's JSON type (a number stays a number). An empty
// `body_json` means the default body: the event object plus "trigger_id" and "trigger_name".
// Returns compact JSON. Errors (kInvalidArgument): invalid JSON, RenderText's errors, or an output
// over kMaxTemplateBytes (the default body is not limited: it is bounded by the event's own size).
Result<std::string> RenderJsonBody(std::string_view body_json, std::string_view event_json,
                                   const TemplateValues& values);

}  // namespace auri::delivery
