#include "delivery/render.h"

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

namespace auri::delivery {

using nlohmann::json;

Result<TemplateValues> ValuesFromEvent(std::string_view event_json, std::string_view trigger_id,
                                       std::string_view trigger_name) {
  json event = json::parse(event_json, nullptr, /*allow_exceptions=*/false);
  if (!event.is_object()) return InvalidArgument("event snapshot is not a JSON object");
  TemplateValues values;
  for (auto it = event.begin(); it != event.end(); ++it) {
    const json& v = it.value();
    TemplateValue tv;
    if (v.is_string()) {
      tv.text = v.get<std::string>();
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
    values[it.key()] = std::move(tv);
  }
  if (auto id = event.find("id");
      id != event.end() && id->is_string() && !values.count("event_id")) {
    values["event_id"] = {id->get<std::string>(), false};
  }
  if (auto ts = event.find("timestamp"); ts != event.end() && ts->is_number_integer()) {
    std::time_t t = ts->get<int64_t>();
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    values["timestamp_unix"] = {std::to_string(ts->get<int64_t>()), true};
    values["timestamp"] = {buf, false};
  }
  values["trigger_id"] = {std::string(trigger_id), false};
  values["trigger_name"] = {std::string(trigger_name), false};
  return values;
}

std::string EscapeMarkdownV2(std::string_view text) {
  // Telegram Bot API, "MarkdownV2 style": these characters must be escaped with a backslash.
  static constexpr std::string_view kSpecial = "_*[]()~`>#+-=|{}.!\\";
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (kSpecial.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// If `text` is exactly one placeholder, its name; else empty.
std::string_view SolePlaceholder(std::string_view text) {
  if (text.size() < 5 || text.substr(0, 2) != "{{" || text.substr(text.size() - 2) != "}}") {
    return {};
  }
  std::string_view inner = text.substr(2, text.size() - 4);
  if (inner.find("{{") != std::string_view::npos || inner.find("}}") != std::string_view::npos) {
    return {};
  }
  return Trim(inner);
}

Status RenderNode(json& node, const TemplateValues& values) {
  if (node.is_string()) {
    std::string text = node.get<std::string>();
    if (std::string_view name = SolePlaceholder(text); !name.empty()) {
      auto it = values.find(name);
      if (it == values.end()) {
        node = "";
      } else if (it->second.is_number) {
        node = json::parse(it->second.text, nullptr, false);
      } else {
        node = it->second.text;
      }
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(std::string rendered, RenderText(text, values, Escape::kNone));
    node = std::move(rendered);
    return Status::Ok();
  }
  if (node.is_object() || node.is_array()) {
    for (auto& child : node) RETURN_IF_ERROR(RenderNode(child, values));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> RenderText(std::string_view text, const TemplateValues& values, Escape escape) {
  if (text.size() > kMaxTemplateBytes) {
    return InvalidArgument("template is " + std::to_string(text.size()) +
                           " bytes; at most 4096 are allowed");
  }
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, open - pos));
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return InvalidArgument("template has an unclosed {{");
    std::string_view name = Trim(text.substr(open + 2, close - open - 2));
    if (auto it = values.find(name); it != values.end()) {
      switch (escape) {
        case Escape::kNone:
          out += it->second.text;
          break;
        case Escape::kMarkdownV2:
          out += EscapeMarkdownV2(it->second.text);
          break;
        case Escape::kHtml:
          out += EscapeHtml(it->second.text);
          break;
        case Escape::kUrl:
          out += PercentEncode(it->second.text);
          break;
      }
    }
    pos = close + 2;
  }
  if (out.size() > kMaxTemplateBytes) {
    return InvalidArgument("rendered template is " + std::to_string(out.size()) +
                           " bytes; at most 4096 are allowed");
  }
  return out;
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
                           " bytes; at most 4096 are allowed");
  }
  json body = json::parse(body_json, nullptr, false);
  if (body.is_discarded()) return InvalidArgument("body template is not valid JSON");
  RETURN_IF_ERROR(RenderNode(body, values));
  std::string out = body.dump();
  if (out.size() > kMaxTemplateBytes) {
    return InvalidArgument("rendered body is " + std::to_string(out.size()) +
                           " bytes; at most 4096 are allowed");
  }
  return out;
}

}  // namespace auri::delivery
