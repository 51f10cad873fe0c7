#include "delivery/template.h"

#include <algorithm>
#include <cctype>

namespace auri::delivery {
namespace {

bool IsNameChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

bool IsTemplatePlaceholderName(std::string_view name) {
  return std::find(kTemplatePlaceholderNames.begin(), kTemplatePlaceholderNames.end(), name) !=
         kTemplatePlaceholderNames.end();
}

Result<ParsedTemplate> ParseTemplate(std::string_view text, UnknownPlaceholders unknown) {
  if (text.size() > kMaxTemplateBytes) {
    return InvalidArgument("template is " + std::to_string(text.size()) + " bytes; at most " +
                           std::to_string(kMaxTemplateBytes) + " are allowed");
  }
  ParsedTemplate out;
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      literal.append(text.substr(i));
      break;
    }
    literal.append(text.substr(i, open - i));
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return InvalidArgument("unclosed placeholder at byte " + std::to_string(open) +
                             ": \"{{\" needs a matching \"}}\"");
    }
    std::string_view name = TrimSpaces(text.substr(open + 2, close - open - 2));
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return InvalidArgument("malformed placeholder at byte " + std::to_string(open) +
                             ": write {{name}} with a lowercase field name");
    }
    if (unknown == UnknownPlaceholders::kReject && !IsTemplatePlaceholderName(name)) {
      return InvalidArgument("unknown placeholder {{" + std::string(name) +
                             "}}: see the template names of spec 30-delivery.md (e.g. event_type, "
                             "agent_id, score, trigger_name)");
    }
    if (!literal.empty()) out.parts.push_back({false, std::move(literal)});
    literal.clear();
    out.parts.push_back({true, std::string(name)});
    i = close + 2;
  }
  if (!literal.empty()) out.parts.push_back({false, std::move(literal)});
  return out;
}

std::string EscapeTemplateValue(std::string_view value, TemplateEscape escape) {
  std::string out;
  out.reserve(value.size());
  switch (escape) {
    case TemplateEscape::kNone:
      out.assign(value);
      break;
    case TemplateEscape::kMarkdownV2:
      // Telegram Bot API, "MarkdownV2 style": these characters must be preceded by '\'.
      for (char c : value) {
        if (std::string_view("_*[]()~`>#+-=|{}.!\\").find(c) != std::string_view::npos) {
          out += '\\';
        }
        out += c;
      }
      break;
    case TemplateEscape::kHtml:
      for (char c : value) {
        switch (c) {
          case '<':
            out += "&lt;";
            break;
          case '>':
            out += "&gt;";
            break;
          case '&':
            out += "&amp;";
            break;
          case '"':
            out += "&quot;";
            break;
          default:
            out += c;
        }
      }
      break;
    case TemplateEscape::kJsonString:
      for (char c : value) {
        unsigned char u = static_cast<unsigned char>(c);
        switch (c) {
          case '"':
            out += "\\\"";
            break;
          case '\\':
            out += "\\\\";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\r':
            out += "\\r";
            break;
          case '\t':
            out += "\\t";
            break;
          default:
            if (u < 0x20) {
              static constexpr char kHex[] = "0123456789abcdef";
              out += "\\u00";
              out += kHex[u >> 4];
              out += kHex[u & 0xf];
            } else {
              out += c;
            }
        }
      }
      break;
    case TemplateEscape::kUrl:
      for (char c : value) {
        unsigned char u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
          out += c;
        } else {
          static constexpr char kHex[] = "0123456789ABCDEF";
          out += '%';
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        }
      }
      break;
  }
  return out;
}

Result<std::string> RenderTemplate(
    const ParsedTemplate& parsed,
    const std::function<std::optional<std::string>(std::string_view name)>& lookup,
    TemplateEscape escape) {
  std::string out;
  for (const TemplatePart& part : parsed.parts) {
    if (part.is_placeholder) {
      if (std::optional<std::string> value = lookup(part.text)) {
        out += EscapeTemplateValue(*value, escape);
      }
    } else {
      out += part.text;
    }
    if (out.size() > kMaxTemplateBytes) {
      return InvalidArgument("rendered template exceeds " + std::to_string(kMaxTemplateBytes) +
                             " bytes");
    }
  }
  return out;
}

}  // namespace auri::delivery
