#pragma once
// Configuration of trigger actions (spec 30-delivery.md, "webhook (alias rest)", "telegram"):
// the one parser of action configs. The API parses with it when an action is saved (400 with field
// details) and the delivery workers parse a job's config snapshot with it when the job runs, so
// the workers execute exactly what the API accepted; a snapshot the parser refuses (written around
// the API, e.g. by SQL) makes the job dead with the same message.
//
// Rules decided here (docs/decisions.md, "Triggers API"):
//   * Unknown config keys are refused (a typo such as "timeout" must not silently fall back to a
//     default), unlike unknown fields of a request body, which are ignored.
//   * webhook url: http or https (any case), "//", a non-empty literal host (placeholders are
//     allowed only after the authority, so the destination host is known when the action is
//     saved), an optional port 1..65535, printable ASCII without spaces, ≤ 2048 bytes.
//   * headers: ≤ 20; names are RFC 9110 tokens of ≤ 256 characters; values ≤ 1024 bytes without
//     control characters (tab allowed), may contain placeholders. Refused names (any case): the
//     ones the transport owns (Host, Content-Length, Transfer-Encoding, Connection, Keep-Alive,
//     Upgrade, TE, Trailer, Proxy-*), and the ones Auri sets itself (Content-Type, User-Agent,
//     Idempotency-Key, webhook-id, webhook-timestamp, webhook-signature, X-Auri-*).
//   * body: a JSON object or array whose strings (keys and values) are templates; serialized
//     ≤ 4096 bytes. Absent: the default body (the whole event plus trigger id/name).
//   * Field names in errors are "config", "config.<key>", "config.headers.<name>",
//     "config.body" and "config.expected_status_codes[<i>]"; the API prefixes them.
//
// Thread-safety: reentrant functions over values.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "delivery/template.h"
#include "pipeline/field_error.h"

namespace auri::delivery {

inline constexpr size_t kMaxWebhookUrlBytes = 2048;
inline constexpr size_t kMaxWebhookHeaders = 20;
inline constexpr size_t kMaxHeaderNameChars = 256;
inline constexpr size_t kMaxHeaderValueBytes = 1024;
inline constexpr int kMinWebhookTimeoutSeconds = 1;
inline constexpr int kMaxWebhookTimeoutSeconds = 60;
inline constexpr int kDefaultWebhookTimeoutSeconds = 10;
inline constexpr size_t kMaxExpectedStatusCodes = 50;

enum class ActionType { kWebhook, kTelegram };

// "webhook" and "rest" (its alias) → kWebhook; "telegram" → kTelegram; nullopt otherwise.
std::optional<ActionType> ParseActionType(std::string_view name);

struct WebhookConfig {
  std::string url;  // a template
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;  // values are templates
  std::optional<std::string> body_json;  // the body template as JSON text; nullopt: default body
  int timeout_seconds = kDefaultWebhookTimeoutSeconds;
  std::vector<int> expected_status_codes;  // empty: any 2xx
};

enum class TelegramParseMode { kMarkdownV2, kHtml, kPlain };

struct TelegramConfig {
  std::string chat_id;  // decimal integer text, may be negative
  std::string message_template;
  TelegramParseMode parse_mode = TelegramParseMode::kMarkdownV2;
};

// Parses `config_json` (a JSON object as text) with the rules at the top of this file, filling
// defaults. `unknown` says what a template naming an unknown placeholder is: an error when an
// action is saved (kReject, the default), an empty value when a job runs (kRenderEmpty, see
// template.h). On failure returns kInvalidArgument ("invalid webhook config: <field>: <message>")
// and appends one FieldError per problem to `errors` when it is not null.
Result<WebhookConfig> ParseWebhookConfig(
    std::string_view config_json, pipeline::FieldErrors* errors = nullptr,
    UnknownPlaceholders unknown = UnknownPlaceholders::kReject);
Result<TelegramConfig> ParseTelegramConfig(
    std::string_view config_json, pipeline::FieldErrors* errors = nullptr,
    UnknownPlaceholders unknown = UnknownPlaceholders::kReject);

// What the API calls on POST/PUT of an action: `action_type` is checked too (field
// "action_type"), then the config of that type.
Status ValidateActionConfig(std::string_view action_type, std::string_view config_json,
                            pipeline::FieldErrors* errors = nullptr);

// The workers' parsed configs, by config text: every job of an action carries the same config
// snapshot, so each distinct text is parsed (ParseWebhookConfig / ParseTelegramConfig with
// UnknownPlaceholders::kRenderEmpty) once instead of once per job. Failures are kept too (the
// parse is a pure function of the text). Bounded: when the texts held would pass kMaxBytes, the
// cache is emptied and fills again (configs are at most 16 KiB each as saved by the API).
// Not thread-safe: one owner (the worker's claim thread).
class ActionConfigCache {
 public:
  static constexpr size_t kMaxBytes = 4 * 1024 * 1024;

  // The parse of `config_json`. The reference is valid until the next call.
  const Result<WebhookConfig>& Webhook(std::string_view config_json);
  const Result<TelegramConfig>& Telegram(std::string_view config_json);

  size_t size() const { return webhook_.size() + telegram_.size(); }

 private:
  void MakeRoom(size_t bytes);
  // The entry of `config_json` in `map`, parsed with `parse` when missing.
  template <typename Config, typename Parse>
  const Result<Config>& Lookup(std::map<std::string, Result<Config>, std::less<>>& map,
                               std::string_view config_json, Parse parse);

  std::map<std::string, Result<WebhookConfig>, std::less<>> webhook_;
  std::map<std::string, Result<TelegramConfig>, std::less<>> telegram_;
  size_t bytes_ = 0;  // key bytes held, both maps
};

}  // namespace auri::delivery
