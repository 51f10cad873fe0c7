#include "delivery/render.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

namespace auri::delivery {

using nlohmann::json;

namespace {

// The values of the parsed event object `event` (see ValuesFromEvent). With `take_strings`, string
// members are moved out of `event` instead of copied (the caller is done with it).
TemplateValues ValuesFromObject(json& event, std::string_view trigger_id,
                                std::string_view trigger_name, bool take_strings) {
  TemplateValues values;
  // Read before the strings are moved out.
  std::optional<std::string> event_id;
  if (auto id = event.find("id"); id != event.end() && id->is_string()) {
    event_id = id->get<std::string>();
  }
  std::optional<int64_t> timestamp;
  if (auto ts = event.find("timestamp"); ts != event.end() && ts->is_number_integer()) {
    timestamp = ts->get<int64_t>();
  }
  // The object's members are in key order, the same order as `values`: append at the end.
  for (auto it = event.begin(); it != event.end(); ++it) {
    json& v = it.value();
    TemplateValue tv;
    if (v.is_string()) {
      if (take_strings) {
        tv.text = std::move(v.get_ref<std::string&>());
      } else {
        tv.text = v.get<std::string>();
      }
    } else if (v.is_number()) {
      tv.text = v.dump();
      tv.is_number = true;
    } else if (v.is_boolean()) {
      tv.text = v.get<bool>() ? "true" : "false";
    } else if (v.is_null()) {
      continue;  // missing
    } else {
      tv.text = v.dump();
    }
    values.emplace_hint(values.end(), it.key(), std::move(tv));
  }
  if (event_id && !values.count("event_id")) values["event_id"] = {std::move(*event_id), false};
  if (timestamp) {
    std::time_t t = *timestamp;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    values["timestamp_unix"] = {std::to_string(*timestamp), true};
    values["timestamp"] = {buf, false};
  }
  values["trigger_id"] = {std::string(trigger_id), false};
  values["trigger_name"] = {std::string(trigger_name), false};
  return values;
}

}  // namespace

Result<TemplateValues> ValuesFromEvent(std::string_view event_json, std::string_view trigger_id,
                                       std::string_view trigger_name) {
  return ValuesFromEvent(event_json, trigger_id, trigger_name, nullptr);
}

Result<TemplateValues> ValuesFromEvent(std::string_view event_json, std::string_view trigger_id,
                                       std::string_view trigger_name, std::string* default_body) {
  json event = json::parse(event_json, nullptr, /*allow_exceptions=*/false);
  if (!event.is_object()) return InvalidArgument("event snapshot is not a JSON object");
  if (default_body == nullptr) return ValuesFromObject(event, trigger_id, trigger_name, false);
  // The default body (as RenderJsonBody("", ...) builds it): the event plus the trigger. Its
  // trigger members are the same as the values' trigger_id and trigger_name, which overwrite them.
  event["trigger_id"] = trigger_id;
  event["trigger_name"] = trigger_name;
  *default_body = event.dump();
  return ValuesFromObject(event, trigger_id, trigger_name, true);
}

namespace {

std::function<std::optional<std::string>(std::string_view)> LookupIn(const TemplateValues& values) {
  return [&values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second.text;
  };
}

Result<json> RenderNode(const json& node, const TemplateValues& values) {
  if (node.is_string()) {
    ASSIGN_OR_RETURN(ParsedTemplate parsed, ParseTemplate(node.get_ref<const std::string&>(),
                                                          UnknownPlaceholders::kRenderEmpty));
    if (parsed.IsSinglePlaceholder()) {
      auto it = values.find(parsed.parts[0].text);
      if (it == values.end()) return json("");
      if (it->second.is_number) return json::parse(it->second.text, nullptr, false);
      return json(it->second.text);
    }
    ASSIGN_OR_RETURN(std::string text,
                     RenderTemplate(parsed, LookupIn(values), TemplateEscape::kNone));
    return json(std::move(text));
  }
  if (node.is_object()) {
    json out = json::object();
    for (const auto& [key, member] : node.items()) {
      // Keys are templates too (action_config validates them as such).
      ASSIGN_OR_RETURN(std::string rendered_key, RenderText(key, values, TemplateEscape::kNone));
      ASSIGN_OR_RETURN(out[rendered_key], RenderNode(member, values));
    }
    return out;
  }
  if (node.is_array()) {
    json out = json::array();
    for (const json& item : node) {
      ASSIGN_OR_RETURN(json rendered, RenderNode(item, values));
      out.push_back(std::move(rendered));
    }
    return out;
  }
  return node;
}

}  // namespace

Result<std::string> RenderText(std::string_view text, const TemplateValues& values,
                               TemplateEscape escape) {
  ASSIGN_OR_RETURN(ParsedTemplate parsed, ParseTemplate(text, UnknownPlaceholders::kRenderEmpty));
  return RenderTemplate(parsed, LookupIn(values), escape);
}

Result<std::string> RenderJsonBody(std::string_view body_json, std::string_view event_json,
                                   const TemplateValues& values) {
  if (body_json.empty()) {
    json event = json::parse(event_json, nullptr, false);
    if (!event.is_object()) return InvalidArgument("event snapshot is not a JSON object");
    auto id = values.find("trigger_id");
    auto name = values.find("trigger_name");
    event["trigger_id"] = id == values.end() ? "" : id->second.text;
    event["trigger_name"] = name == values.end() ? "" : name->second.text;
    return event.dump();
  }
  if (body_json.size() > kMaxTemplateBytes) {
    return InvalidArgument("body template is " + std::to_string(body_json.size()) +
                           " bytes; at most " + std::to_string(kMaxTemplateBytes) + " are allowed");
  }
  json body = json::parse(body_json, nullptr, false);
  if (body.is_discarded()) return InvalidArgument("body template is not valid JSON");
  ASSIGN_OR_RETURN(json rendered, RenderNode(body, values));
  std::string out = rendered.dump();
  if (out.size() > kMaxTemplateBytes) {
    return InvalidArgument("rendered body is " + std::to_string(out.size()) + " bytes; at most " +
                           std::to_string(kMaxTemplateBytes) + " are allowed");
  }
  return out;
}

}  // namespace auri::delivery
