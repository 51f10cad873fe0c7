#include "delivery/webhook_executor.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "delivery/ssrf_guard.h"
#include "delivery/webhook_signature.h"

namespace auri::delivery {

using nlohmann::json;

namespace {

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Headers Auri sets itself; a user header of the same name would let a config forge or break them.
bool IsReservedHeader(std::string_view name) {
  static const char* kReserved[] = {"content-type",      "user-agent",        "idempotency-key",
                                    "x-auri-event-id",   "x-auri-trigger-id", "webhook-id",
                                    "webhook-timestamp", "webhook-signature", "host",
                                    "content-length",    "transfer-encoding", "connection"};
  std::string lower = Lower(name);
  return std::any_of(std::begin(kReserved), std::end(kReserved),
                     [&](const char* r) { return lower == r; });
}

bool ValidHeaderName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

Result<WebhookJobConfig> ParseWebhookJobConfig(std::string_view config_json) {
  json c = json::parse(config_json, nullptr, false);
  if (!c.is_object()) return InvalidArgument("webhook config is not a JSON object");
  WebhookJobConfig out;
  auto url = c.find("url");
  if (url == c.end() || !url->is_string() || url->get<std::string>().empty()) {
    return InvalidArgument("webhook config: url is required");
  }
  out.url = url->get<std::string>();
  if (out.url.size() > 2048) return InvalidArgument("webhook config: url longer than 2048 bytes");
  if (auto m = c.find("method"); m != c.end()) {
    if (!m->is_string()) return InvalidArgument("webhook config: method must be a string");
    out.method = m->get<std::string>();
    std::transform(out.method.begin(), out.method.end(), out.method.begin(), ::toupper);
    static const char* kMethods[] = {"POST", "PUT", "PATCH", "GET", "DELETE"};
    if (std::none_of(std::begin(kMethods), std::end(kMethods),
                     [&](const char* k) { return out.method == k; })) {
      return InvalidArgument("webhook config: method must be POST, PUT, PATCH, GET or DELETE");
    }
  }
  if (auto h = c.find("headers"); h != c.end() && !h->is_null()) {
    if (!h->is_object() || h->size() > 20) {
      return InvalidArgument("webhook config: headers must be an object of at most 20 strings");
    }
    for (auto it = h->begin(); it != h->end(); ++it) {
      if (!it.value().is_string() || it.value().get<std::string>().size() > 1024) {
        return InvalidArgument("webhook config: header " + it.key() +
                               " must be a string of at most 1024 bytes");
      }
      if (!ValidHeaderName(it.key())) {
        return InvalidArgument("webhook config: invalid header name '" + it.key() + "'");
      }
      out.headers.emplace_back(it.key(), it.value().get<std::string>());
    }
  }
  if (auto b = c.find("body"); b != c.end() && !b->is_null()) {
    // A body given as a string is JSON text; given as JSON, it is the template itself.
    out.body = b->is_string() ? b->get<std::string>() : b->dump();
  }
  if (auto t = c.find("timeout_seconds"); t != c.end() && !t->is_null()) {
    if (!t->is_number_integer() || t->get<int64_t>() < 1 || t->get<int64_t>() > 60) {
      return InvalidArgument("webhook config: timeout_seconds must be an integer in 1..60");
    }
    out.timeout_seconds = t->get<int>();
  }
  if (auto e = c.find("expected_status_codes"); e != c.end() && !e->is_null()) {
    if (!e->is_array()) return InvalidArgument("webhook config: expected_status_codes not a list");
    for (const json& code : *e) {
      if (!code.is_number_integer() || code.get<int>() < 100 || code.get<int>() > 599) {
        return InvalidArgument("webhook config: expected_status_codes must hold 100..599");
      }
      out.expected_status_codes.push_back(code.get<int>());
    }
  }
  return out;
}

Result<HttpRequest> BuildWebhookRequest(const WebhookJobConfig& config, const WebhookContext& ctx) {
  if (ctx.signing_keys.empty()) {
    return InvalidArgument("no webhook signing key", "check the webhook-signing-secret secret");
  }
  const TemplateValues& values = *ctx.values;
  HttpRequest r;
  r.method = config.method;
  ASSIGN_OR_RETURN(r.url, RenderText(config.url, values, Escape::kUrl));
  ASSIGN_OR_RETURN(ParsedUrl parsed, ParseHttpUrl(r.url));
  r.host = parsed.host;
  r.port = parsed.port;
  ASSIGN_OR_RETURN(r.body, RenderJsonBody(config.body, ctx.event_json, values));
  r.total_timeout = std::chrono::seconds(config.timeout_seconds);
  for (const auto& [name, value_template] : config.headers) {
    if (IsReservedHeader(name)) continue;
    ASSIGN_OR_RETURN(std::string value, RenderText(value_template, values, Escape::kNone));
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
