#include "delivery/action_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

#include "delivery/template.h"

namespace auri::delivery {
namespace {

using nlohmann::json;
using pipeline::FieldErrors;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// RFC 9110 §5.6.2 token characters.
bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsForbiddenHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 14> kForbidden = {"host",
                                                                  "content-length",
                                                                  "transfer-encoding",
                                                                  "connection",
                                                                  "keep-alive",
                                                                  "upgrade",
                                                                  "te",
                                                                  "trailer",
                                                                  "content-type",
                                                                  "user-agent",
                                                                  "idempotency-key",
                                                                  "webhook-id",
                                                                  "webhook-timestamp",
                                                                  "webhook-signature"};
  std::string lower = Lower(name);
  if (std::find(kForbidden.begin(), kForbidden.end(), lower) != kForbidden.end()) return true;
  return lower.rfind("proxy-", 0) == 0 || lower.rfind("x-auri-", 0) == 0;
}

// Parses config text into an object, or records why not.
std::optional<json> ParseObject(std::string_view text, FieldErrors* errors) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    errors->push_back({"config", "must be a JSON object"});
    return std::nullopt;
  }
  return doc;
}

void RefuseUnknownKeys(const json& config, std::initializer_list<std::string_view> known,
                       std::string_view type, FieldErrors* errors) {
  for (const auto& [key, value] : config.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      errors->push_back(
          {"config." + key, "is not a " + std::string(type) + " parameter (known: " + list + ")"});
    }
  }
}

void CheckTemplate(std::string_view text, const std::string& field, UnknownPlaceholders unknown,
                   FieldErrors* errors) {
  Result<ParsedTemplate> parsed = ParseTemplate(text, unknown);
  if (!parsed.ok()) errors->push_back({field, parsed.status().message()});
}

// The url rules at the top of action_config.h.
void CheckUrl(const std::string& url, UnknownPlaceholders unknown, FieldErrors* errors) {
  const std::string field = "config.url";
  if (url.size() > kMaxWebhookUrlBytes) {
    errors->push_back({field, "must be at most " + std::to_string(kMaxWebhookUrlBytes) + " bytes"});
    return;
  }
  if (!std::all_of(url.begin(), url.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    errors->push_back({field, "must be printable ASCII without spaces (percent-encode the rest)"});
    return;
  }
  size_t scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : Lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") {
    errors->push_back({field, "must start with http:// or https://"});
    return;
  }
  size_t authority_start = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", authority_start);
  std::string_view authority = std::string_view(url).substr(
      authority_start,
      authority_end == std::string::npos ? std::string::npos : authority_end - authority_start);
  if (authority.find_first_of("{}") != std::string_view::npos) {
    errors->push_back({field, "placeholders are not allowed in the host or port"});
    return;
  }
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) {
      errors->push_back({field, "has a malformed IPv6 host"});
      return;
    }
    std::string_view v6 = host.substr(1, close - 1);
    if (!std::all_of(v6.begin(), v6.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        })) {
      errors->push_back({field, "has a malformed IPv6 host"});
      return;
    }
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        errors->push_back({field, "has a malformed host"});
        return;
      }
      port = rest.substr(1);
      if (port.empty()) port = "x";  // "[::1]:" is malformed
    }
    host = host.substr(0, close + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    if (port.empty()) port = "x";
    host = host.substr(0, colon);
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
                 c == '~' || c == '%';
        })) {
      errors->push_back({field, "has a malformed host"});
      return;
    }
  } else if (!std::all_of(host.begin(), host.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                      c == '_' || c == '~' || c == '%';
             })) {
    errors->push_back({field, "has a malformed host"});
    return;
  }
  if (host.empty()) {
    errors->push_back({field, "must name a host"});
    return;
  }
  if (!port.empty()) {
    bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
    int n = digits ? std::stoi(std::string(port)) : 0;
    if (n < 1 || n > 65535) {
      errors->push_back({field, "has a port outside 1..65535"});
      return;
    }
  }
  CheckTemplate(url, field, unknown, errors);
}

// Every string of a JSON body template (keys and values) must be a valid template.
void CheckBodyStrings(const json& value, UnknownPlaceholders unknown, FieldErrors* errors,
                      int depth) {
  if (depth > 32) {
    errors->push_back({"config.body", "is nested more than 32 levels deep"});
    return;
  }
  if (value.is_string()) {
    CheckTemplate(value.get_ref<const std::string&>(), "config.body", unknown, errors);
  } else if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      CheckTemplate(key, "config.body", unknown, errors);
      CheckBodyStrings(member, unknown, errors, depth + 1);
    }
  } else if (value.is_array()) {
    for (const json& item : value) CheckBodyStrings(item, unknown, errors, depth + 1);
  }
}

Status Finish(std::string_view what, const FieldErrors& found, FieldErrors* errors) {
  if (found.empty()) return Status::Ok();
  if (errors != nullptr) errors->insert(errors->end(), found.begin(), found.end());
  return InvalidArgument(
      "invalid " + std::string(what) + " config: " + pipeline::SummarizeFieldErrors(found),
      "see spec 30-delivery.md");
}

}  // namespace

std::optional<ActionType> ParseActionType(std::string_view name) {
  if (name == "webhook" || name == "rest") return ActionType::kWebhook;
  if (name == "telegram") return ActionType::kTelegram;
  return std::nullopt;
}

Result<WebhookConfig> ParseWebhookConfig(std::string_view config_json, FieldErrors* errors,
                                         UnknownPlaceholders unknown) {
  FieldErrors found;
  WebhookConfig out;
  std::optional<json> config = ParseObject(config_json, &found);
  if (config) {
    RefuseUnknownKeys(
        *config, {"url", "method", "headers", "body", "timeout_seconds", "expected_status_codes"},
        "webhook", &found);
    auto url = config->find("url");
    if (url == config->end() || url->is_null()) {
      found.push_back({"config.url", "is required"});
    } else if (!url->is_string()) {
      found.push_back({"config.url", "must be a string"});
    } else {
      out.url = url->get<std::string>();
      CheckUrl(out.url, unknown, &found);
    }
    if (auto method = config->find("method"); method != config->end() && !method->is_null()) {
      static constexpr std::array<std::string_view, 5> kMethods = {"POST", "PUT", "PATCH", "GET",
                                                                   "DELETE"};
      if (!method->is_string() ||
          std::find(kMethods.begin(), kMethods.end(), method->get_ref<const std::string&>()) ==
              kMethods.end()) {
        found.push_back({"config.method", "must be one of POST, PUT, PATCH, GET, DELETE"});
      } else {
        out.method = method->get<std::string>();
      }
    }
    if (auto headers = config->find("headers"); headers != config->end() && !headers->is_null()) {
      if (!headers->is_object()) {
        found.push_back({"config.headers", "must be an object of name: value strings"});
      } else if (headers->size() > kMaxWebhookHeaders) {
        found.push_back({"config.headers",
                         "must have at most " + std::to_string(kMaxWebhookHeaders) + " entries"});
      } else {
        for (const auto& [name, value] : headers->items()) {
          std::string field = "config.headers." + name.substr(0, 64);
          if (name.empty() || name.size() > kMaxHeaderNameChars ||
              !std::all_of(name.begin(), name.end(), IsTokenChar)) {
            found.push_back({field,
                             "is not a valid header name (letters, digits, - and "
                             "!#$%&'*+.^_`|~, at most 256)"});
            continue;
          }
          if (IsForbiddenHeader(name)) {
            found.push_back({field, "is set by auri or the transport and cannot be configured"});
            continue;
          }
          if (!value.is_string()) {
            found.push_back({field, "must be a string"});
            continue;
          }
          const std::string& text = value.get_ref<const std::string&>();
          if (text.size() > kMaxHeaderValueBytes) {
            found.push_back(
                {field, "must be at most " + std::to_string(kMaxHeaderValueBytes) + " bytes"});
            continue;
          }
          if (std::any_of(text.begin(), text.end(), [](char c) {
                return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
              })) {
            found.push_back({field, "must not contain control characters (CR, LF, NUL...)"});
            continue;
          }
          size_t before = found.size();
          CheckTemplate(text, field, unknown, &found);
          if (found.size() == before) out.headers.emplace_back(name, text);
        }
      }
    }
    if (auto body = config->find("body"); body != config->end() && !body->is_null()) {
      if (!body->is_object() && !body->is_array()) {
        found.push_back({"config.body", "must be a JSON object or array (a JSON template)"});
      } else {
        std::string text = body->dump();
        if (text.size() > kMaxTemplateBytes) {
          found.push_back({"config.body", "must be at most " + std::to_string(kMaxTemplateBytes) +
                                              " bytes as JSON"});
        } else {
          CheckBodyStrings(*body, unknown, &found, 0);
          out.body_json = std::move(text);
        }
      }
    }
    if (auto timeout = config->find("timeout_seconds");
        timeout != config->end() && !timeout->is_null()) {
      if (!timeout->is_number_integer() || timeout->get<int64_t>() < kMinWebhookTimeoutSeconds ||
          timeout->get<int64_t>() > kMaxWebhookTimeoutSeconds ||
          (timeout->is_number_unsigned() &&
           timeout->get<uint64_t>() > static_cast<uint64_t>(kMaxWebhookTimeoutSeconds))) {
        found.push_back({"config.timeout_seconds", "must be an integer between 1 and 60"});
      } else {
        out.timeout_seconds = static_cast<int>(timeout->get<int64_t>());
      }
    }
    if (auto codes = config->find("expected_status_codes");
        codes != config->end() && !codes->is_null()) {
      if (!codes->is_array()) {
        found.push_back({"config.expected_status_codes", "must be an array of status codes"});
      } else if (codes->size() > kMaxExpectedStatusCodes) {
        found.push_back(
            {"config.expected_status_codes",
             "must have at most " + std::to_string(kMaxExpectedStatusCodes) + " entries"});
      } else {
        for (size_t i = 0; i < codes->size(); ++i) {
          const json& code = (*codes)[i];
          bool ok = code.is_number_integer() &&
                    !(code.is_number_unsigned() && code.get<uint64_t>() > 599) &&
                    code.get<int64_t>() >= 100 && code.get<int64_t>() <= 599;
          if (!ok) {
            found.push_back({"config.expected_status_codes[" + std::to_string(i) + "]",
                             "must be an integer between 100 and 599"});
          } else {
            out.expected_status_codes.push_back(static_cast<int>(code.get<int64_t>()));
          }
        }
      }
    }
  }
  RETURN_IF_ERROR(Finish("webhook", found, errors));
  return out;
}

Result<TelegramConfig> ParseTelegramConfig(std::string_view config_json, FieldErrors* errors,
                                           UnknownPlaceholders unknown) {
  FieldErrors found;
  TelegramConfig out;
  std::optional<json> config = ParseObject(config_json, &found);
  if (config) {
    RefuseUnknownKeys(*config, {"chat_id", "message_template", "parse_mode"}, "telegram", &found);
    auto chat = config->find("chat_id");
    if (chat == config->end() || chat->is_null()) {
      found.push_back({"config.chat_id", "is required"});
    } else {
      // An integer as a string (spec 30-delivery.md); negative for groups and channels. Within
      // int64 so it fits every Telegram client's integer type.
      bool ok = chat->is_string();
      if (ok) {
        const std::string& s = chat->get_ref<const std::string&>();
        std::string_view digits = s;
        if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
        ok = !digits.empty() && digits.size() <= 18 && (digits.size() == 1 || digits[0] != '0') &&
             std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (ok) out.chat_id = s;
      }
      if (!ok)
        found.push_back({"config.chat_id", "must be an integer as a string, e.g. \"-100123\""});
    }
    auto message = config->find("message_template");
    if (message == config->end() || message->is_null()) {
      found.push_back({"config.message_template", "is required"});
    } else if (!message->is_string() || message->get_ref<const std::string&>().empty()) {
      found.push_back({"config.message_template", "must be a non-empty string"});
    } else {
      out.message_template = message->get<std::string>();
      CheckTemplate(out.message_template, "config.message_template", unknown, &found);
    }
    if (auto mode = config->find("parse_mode"); mode != config->end() && !mode->is_null()) {
      std::string_view m = mode->is_string() ? std::string_view(mode->get_ref<const std::string&>())
                                             : std::string_view();
      if (m == "MarkdownV2") {
        out.parse_mode = TelegramParseMode::kMarkdownV2;
      } else if (m == "HTML") {
        out.parse_mode = TelegramParseMode::kHtml;
      } else if (m == "plain") {
        out.parse_mode = TelegramParseMode::kPlain;
      } else {
        found.push_back({"config.parse_mode", "must be one of MarkdownV2, HTML, plain"});
      }
    }
  }
  RETURN_IF_ERROR(Finish("telegram", found, errors));
  return out;
}

Status ValidateActionConfig(std::string_view action_type, std::string_view config_json,
                            FieldErrors* errors) {
  std::optional<ActionType> type = ParseActionType(action_type);
  if (!type) {
    FieldErrors found = {{"action_type", "must be one of telegram, webhook, rest"}};
    return Finish("action", found, errors);
  }
  if (*type == ActionType::kWebhook) return ParseWebhookConfig(config_json, errors).status();
  return ParseTelegramConfig(config_json, errors).status();
}

void ActionConfigCache::MakeRoom(size_t bytes) {
  if (bytes_ + bytes <= kMaxBytes) return;
  webhook_.clear();
  telegram_.clear();
  bytes_ = 0;
}

template <typename Config, typename Parse>
const Result<Config>& ActionConfigCache::Lookup(
    std::map<std::string, Result<Config>, std::less<>>& map, std::string_view config_json,
    Parse parse) {
  if (auto it = map.find(config_json); it != map.end()) return it->second;
  MakeRoom(config_json.size());
  bytes_ += config_json.size();
  return map
      .emplace(std::string(config_json),
               parse(config_json, nullptr, UnknownPlaceholders::kRenderEmpty))
      .first->second;
}

const Result<WebhookConfig>& ActionConfigCache::Webhook(std::string_view config_json) {
  return Lookup(webhook_, config_json, ParseWebhookConfig);
}

const Result<TelegramConfig>& ActionConfigCache::Telegram(std::string_view config_json) {
  return Lookup(telegram_, config_json, ParseTelegramConfig);
}

}  // namespace auri::delivery
