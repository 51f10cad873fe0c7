#include "delivery/webhook_executor.h"

#include <algorithm>

#include "delivery/ssrf_guard.h"
#include "delivery/webhook_signature.h"

namespace auri::delivery {

namespace {

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

Result<HttpRequest> BuildWebhookRequest(const WebhookConfig& config, const WebhookContext& ctx) {
  if (ctx.signing_keys.empty()) {
    return InvalidArgument("no webhook signing key", "check the webhook-signing-secret secret");
  }
  const TemplateValues& values = *ctx.values;
  HttpRequest r;
  r.method = config.method;
  ASSIGN_OR_RETURN(r.url, RenderText(config.url, values, TemplateEscape::kUrl));
  ASSIGN_OR_RETURN(ParsedUrl parsed, ParseHttpUrl(r.url));
  r.host = parsed.host;
  r.port = parsed.port;
  if (!config.body_json && ctx.default_body != nullptr) {
    r.body = *ctx.default_body;
  } else {
    ASSIGN_OR_RETURN(r.body, RenderJsonBody(config.body_json.value_or(""), ctx.event_json, values));
  }
  r.total_timeout = std::chrono::seconds(config.timeout_seconds);
  // The config parser refused header names Auri sets below, so none is sent twice.
  for (const auto& [name, value_template] : config.headers) {
    ASSIGN_OR_RETURN(std::string value, RenderText(value_template, values, TemplateEscape::kNone));
    if (HasLineBreak(value)) {
      return InvalidArgument("header " + name + " renders to a value with a line break");
    }
    r.headers.emplace_back(name, std::move(value));
  }
  std::string ts = std::to_string(ctx.timestamp);
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("User-Agent", ctx.user_agent);
  r.headers.emplace_back("Idempotency-Key", ctx.job_id);
  r.headers.emplace_back("X-Auri-Event-Id", ctx.event_id);
  r.headers.emplace_back("X-Auri-Trigger-Id", ctx.trigger_id);
  r.headers.emplace_back("webhook-id", ctx.job_id);
  r.headers.emplace_back("webhook-timestamp", ts);
  r.headers.emplace_back("webhook-signature",
                         SignatureHeader(ctx.signing_keys, ctx.job_id, ctx.timestamp, r.body));
  return r;
}

AttemptOutcome ClassifyHttpResult(const HttpResult& result, const std::vector<int>& expected,
                                  int64_t now_unix_seconds) {
  AttemptOutcome o;
  if (!result.transport_ok) {
    o.failure = result.timed_out ? AttemptFailure::kTimeout : AttemptFailure::kConnection;
    o.error = result.error;
    return o;
  }
  o.status_code = result.status;
  o.response_excerpt = result.body.substr(0, 1024);
  bool ok = expected.empty()
                ? (result.status >= 200 && result.status < 300)
                : std::find(expected.begin(), expected.end(), result.status) != expected.end();
  if (ok) return o;
  o.failure = AttemptFailure::kHttpStatus;
  o.error = "unexpected HTTP status " + std::to_string(result.status);
  if (!result.retry_after.empty())
    o.retry_after = ParseRetryAfter(result.retry_after, now_unix_seconds);
  return o;
}

}  // namespace auri::delivery
