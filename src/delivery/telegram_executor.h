#pragma once
// The telegram action (spec 30-delivery.md, "telegram"): sendMessage requests with escaped
// substitutions, and Telegram's rate limits (30 messages/s overall, 1/s per chat).
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/result.h"
#include "delivery/action_config.h"
#include "delivery/http_dispatcher.h"
#include "delivery/render.h"
#include "delivery/webhook_executor.h"

namespace auri::delivery {

// POST {api_base}/bot{token}/sendMessage with {"chat_id", "text", "parse_mode"} for `config` (from
// ParseTelegramConfig); substituted values are escaped for the parse mode (none for plain, which
// sends no parse_mode). The token is never logged (the URL is not either). Errors: kInvalidArgument
// when the message renders too long or the api_base is not a URL; kFailedPrecondition when
// `bot_token` is empty (no secret).
Result<HttpRequest> BuildTelegramRequest(const TelegramConfig& config, const TemplateValues& values,
                                         const std::string& api_base, const std::string& bot_token);

// As ClassifyHttpResult, and a 429 takes its delay from Telegram's parameters.retry_after.
AttemptOutcome ClassifyTelegramResult(const HttpResult& result, int64_t now_unix_seconds);

// Rate limits shared by the threads of one process: at most `global_per_second` sends per second
// overall and one per `per_chat_interval` per chat. Thread-safe.
class TelegramRateLimiter {
 public:
  explicit TelegramRateLimiter(
      int global_per_second = 30,
      std::chrono::milliseconds per_chat_interval = std::chrono::seconds(1));
  // Takes a send slot for `chat_id` at `now` and returns 0, or returns how long to wait (nothing is
  // taken then).
  std::chrono::milliseconds TryAcquire(const std::string& chat_id,
                                       std::chrono::steady_clock::time_point now);

 private:
  std::mutex mu_;
  int global_per_second_;
  std::chrono::milliseconds per_chat_interval_;
  std::chrono::steady_clock::time_point window_start_{};
  int sent_in_window_ = 0;
  std::map<std::string, std::chrono::steady_clock::time_point> next_per_chat_;
};

}  // namespace auri::delivery
