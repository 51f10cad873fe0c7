#include "delivery/telegram_executor.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "delivery/ssrf_guard.h"

namespace auri::delivery {

using nlohmann::json;

namespace {

// How substituted values are escaped for a parse mode, and the Bot API's parse_mode value (empty
// for plain text: the field is then left out).
struct ModeRendering {
  TemplateEscape escape;
  std::string_view name;
};

ModeRendering RenderingFor(TelegramParseMode mode) {
  switch (mode) {
    case TelegramParseMode::kMarkdownV2:
      return {TemplateEscape::kMarkdownV2, "MarkdownV2"};
    case TelegramParseMode::kHtml:
      return {TemplateEscape::kHtml, "HTML"};
    case TelegramParseMode::kPlain:
      break;
  }
  return {TemplateEscape::kNone, ""};
}

}  // namespace

Result<HttpRequest> BuildTelegramRequest(const TelegramConfig& config, const TemplateValues& values,
                                         const std::string& api_base,
                                         const std::string& bot_token) {
  if (bot_token.empty()) {
    return FailedPrecondition("telegram bot token is not set (secret telegram-bot-token)",
                              "store the token from @BotFather as secret telegram-bot-token");
  }
  ModeRendering mode = RenderingFor(config.parse_mode);
  ASSIGN_OR_RETURN(std::string text, RenderText(config.message_template, values, mode.escape));
  json body = {{"chat_id", config.chat_id}, {"text", text}};
  if (!mode.name.empty()) body["parse_mode"] = mode.name;
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
