#include "delivery/telegram_executor.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "delivery/ssrf_guard.h"

namespace auri::delivery {

using nlohmann::json;

Result<TelegramJobConfig> ParseTelegramJobConfig(std::string_view config_json) {
  json c = json::parse(config_json, nullptr, false);
  if (!c.is_object()) return InvalidArgument("telegram config is not a JSON object");
  TelegramJobConfig out;
  auto chat = c.find("chat_id");
  if (chat != c.end() && chat->is_number_integer()) {
    out.chat_id = std::to_string(chat->get<int64_t>());
  } else if (chat != c.end() && chat->is_string()) {
    out.chat_id = chat->get<std::string>();
  }
  std::string_view digits = out.chat_id;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 20 ||
      !std::all_of(digits.begin(), digits.end(), [](char ch) { return std::isdigit(ch) != 0; })) {
    return InvalidArgument("telegram config: chat_id must be an integer (as a string)");
  }
  auto tmpl = c.find("message_template");
  if (tmpl == c.end() || !tmpl->is_string() || tmpl->get<std::string>().empty()) {
    return InvalidArgument("telegram config: message_template is required");
  }
  out.message_template = tmpl->get<std::string>();
  if (out.message_template.size() > kMaxTemplateBytes) {
    return InvalidArgument("telegram config: message_template longer than 4096 bytes");
  }
  if (auto mode = c.find("parse_mode"); mode != c.end() && !mode->is_null()) {
    std::string m = mode->is_string() ? mode->get<std::string>() : "";
    if (m == "MarkdownV2") {
      out.escape = Escape::kMarkdownV2;
      out.parse_mode = m;
    } else if (m == "HTML") {
      out.escape = Escape::kHtml;
      out.parse_mode = m;
    } else if (m == "plain") {
      out.escape = Escape::kNone;
      out.parse_mode.clear();
    } else {
      return InvalidArgument("telegram config: parse_mode must be MarkdownV2, HTML or plain");
    }
  }
  return out;
}

Result<HttpRequest> BuildTelegramRequest(const TelegramJobConfig& config,
                                         const TemplateValues& values, const std::string& api_base,
                                         const std::string& bot_token) {
  if (bot_token.empty()) {
    return FailedPrecondition("telegram bot token is not set (secret telegram-bot-token)",
                              "store the token from @BotFather as secret telegram-bot-token");
  }
  ASSIGN_OR_RETURN(std::string text, RenderText(config.message_template, values, config.escape));
  json body = {{"chat_id", config.chat_id}, {"text", text}};
  if (!config.parse_mode.empty()) body["parse_mode"] = config.parse_mode;
  HttpRequest r;
  std::string base = api_base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  r.url = base + "/bot" + bot_token + "/sendMessage";
  ASSIGN_OR_RETURN(ParsedUrl parsed, ParseHttpUrl(r.url));
  r.host = parsed.host;
  r.port = parsed.port;
  r.method = "POST";
  r.body = body.dump();
  r.headers.emplace_back("Content-Type", "application/json");
  r.total_timeout = std::chrono::seconds(10);
  return r;
}

AttemptOutcome ClassifyTelegramResult(const HttpResult& result, int64_t now_unix_seconds) {
  AttemptOutcome o = ClassifyHttpResult(result, {}, now_unix_seconds);
  if (o.failure == AttemptFailure::kHttpStatus) {
    json reply = json::parse(result.body, nullptr, false);
    if (reply.is_object()) {
      if (auto d = reply.find("description"); d != reply.end() && d->is_string()) {
        o.error = "telegram: " + d->get<std::string>();
      }
      if (result.status == 429) {
        auto p = reply.find("parameters");
        if (p != reply.end() && p->is_object()) {
          auto ra = p->find("retry_after");
          if (ra != p->end() && ra->is_number_integer()) {
            o.retry_after = std::chrono::seconds(ra->get<int64_t>());
          }
        }
      }
    }
  }
  return o;
}

TelegramRateLimiter::TelegramRateLimiter(int global_per_second,
                                         std::chrono::milliseconds per_chat_interval)
    : global_per_second_(global_per_second), per_chat_interval_(per_chat_interval) {}

std::chrono::milliseconds TelegramRateLimiter::TryAcquire(
    const std::string& chat_id, std::chrono::steady_clock::time_point now) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  std::lock_guard<std::mutex> lock(mu_);
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    sent_in_window_ = 0;
  }
  milliseconds wait{0};
  if (sent_in_window_ >= global_per_second_) {
    wait = duration_cast<milliseconds>(window_start_ + std::chrono::seconds(1) - now);
  }
  auto it = next_per_chat_.find(chat_id);
  if (it != next_per_chat_.end() && it->second > now) {
    wait = std::max(wait, duration_cast<milliseconds>(it->second - now));
  }
  if (wait > milliseconds(0)) return wait;
  ++sent_in_window_;
  next_per_chat_[chat_id] = now + per_chat_interval_;
  if (next_per_chat_.size() > 100000) {  // bound memory: forget chats whose slot has passed
    std::erase_if(next_per_chat_, [now](const auto& kv) { return kv.second <= now; });
  }
  return milliseconds(0);
}

}  // namespace auri::delivery
