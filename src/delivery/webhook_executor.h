#pragma once
// The webhook (alias rest) action: from a job's config snapshot to one signed HTTP request, and
// from the response to an attempt outcome (spec 30-delivery.md, "webhook").
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "delivery/action_config.h"
#include "delivery/http_dispatcher.h"
#include "delivery/render.h"
#include "delivery/retry_policy.h"

namespace auri::delivery {

// What the request needs besides the config.
struct WebhookContext {
  std::string job_id;  // Idempotency-Key and webhook-id
  std::string event_id;
  std::string trigger_id;
  std::string event_json;  // for the default body, when default_body is null
  // The default body already built (ValuesFromEvent with a default_body): event_json is then not
  // read. Not owned; null: RenderJsonBody builds it from event_json.
  const std::string* default_body = nullptr;
  const TemplateValues* values = nullptr;
  std::vector<std::string> signing_keys;  // raw HMAC keys: current first, then previous
  int64_t timestamp = 0;                  // unix seconds of this attempt
  std::string user_agent;                 // "auri/<version>"
};

// Renders URL (values percent-encoded), headers and body of `config` (from ParseWebhookConfig) and
// adds the Standard Webhooks and Auri headers. The returned request has no pinned address yet (the
// caller runs the SSRF guard on url/host/port). Errors: kInvalidArgument on template errors, an
// invalid rendered URL, a header value that renders with a line break, or no signing key.
Result<HttpRequest> BuildWebhookRequest(const WebhookConfig& config, const WebhookContext& ctx);

// How one attempt ended, ready for DecideRetry and the result row.
struct AttemptOutcome {
  AttemptFailure failure = AttemptFailure::kNone;
  std::optional<int> status_code;
  std::string error;
  std::string response_excerpt;  // first KiB of the body
  std::optional<std::chrono::seconds> retry_after;
};

// Success when the status is expected (empty list: 2xx); kHttpStatus otherwise; kTimeout or
// kConnection when no response came.
AttemptOutcome ClassifyHttpResult(const HttpResult& result, const std::vector<int>& expected,
                                  int64_t now_unix_seconds);

}  // namespace auri::delivery
