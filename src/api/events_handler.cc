#include "api/events_handler.h"

#include <nlohmann/json.hpp>
#include <string>

#include "api/errors.h"
#include "common/metrics.h"
#include "pipeline/field_error.h"

namespace auri::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "application/json" or "application/json; charset=utf-8", any case.
bool IsJsonContentType(std::optional<std::string_view> value) {
  if (!value) return false;
  std::string_view media = *value;
  if (size_t semi = media.find(';'); semi != std::string_view::npos) media = media.substr(0, semi);
  return EqualsIgnoreCase(Trim(media), "application/json");
}

// The token of "Authorization: Bearer <token>", or nullopt when absent or another scheme.
std::optional<std::string_view> BearerToken(const HttpRequest& request) {
  std::optional<std::string_view> header = request.Header("Authorization");
  if (!header) return std::nullopt;
  std::string_view value = Trim(*header);
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view token = Trim(value.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

HttpResponse ValidationErrorResponse(const pipeline::FieldErrors& errors) {
  nlohmann::json fields = nlohmann::json::object();
  for (const pipeline::FieldError& e : errors) {
    // Several errors on one field are joined so none is lost.
    auto it = fields.find(e.field);
    if (it == fields.end()) {
      fields[e.field] = e.message;
    } else {
      *it = it->get<std::string>() + "; " + e.message;
    }
  }
  nlohmann::json details = {{"fields", fields}};
  return ErrorResponse(400, "validation_error", "the request has invalid fields",
                       details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

IngestMetrics RegisterIngestMetrics(MetricsRegistry* registry) {
  IngestMetrics m;
  m.ingested = registry->AddCounter("auri_events_ingested_total",
                                    "Events stored by POST /api/v1/events (new ids only).");
  m.duplicates = registry->AddCounter("auri_events_duplicate_total",
                                      "Events received whose id was already stored (not stored).");
  m.batch_size = registry->AddHistogram("auri_ingest_batch_size",
                                        "Events per accepted POST /api/v1/events request.", {},
                                        {1, 10, 50, 100, 250, 500, 1000});
  return m;
}

HttpResponse HandleIngestEvents(const IngestDeps& deps, const HttpRequest& request) {
  // Authentication first, so an unauthenticated client learns nothing about the body rules.
  std::optional<std::string_view> token = BearerToken(request);
  if (!token) {
    HttpResponse r = ErrorResponse(401, "unauthorized", "missing bearer token");
    r.headers.Set("WWW-Authenticate", "Bearer");
    return r;
  }
  if (!deps.token_valid(*token)) {
    HttpResponse r = ErrorResponse(401, "invalid_token", "the token is not valid");
    r.headers.Set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return r;
  }
  if (!IsJsonContentType(request.Header("Content-Type"))) {
    return ErrorResponse(415, "unsupported_media_type", "content type must be application/json");
  }

  pipeline::FieldErrors errors;
  Result<std::vector<pipeline::Event>> events = pipeline::ValidateEventBody(request.body, &errors);
  if (!events.ok()) {
    if (errors.empty()) errors.push_back({"body", events.status().message()});
    return ValidationErrorResponse(errors);
  }

  Result<IngestCounts> counts = deps.store(*events);
  if (!counts.ok()) return ResponseFromStatus(counts.status(), deps.logger, request.request_id);

  if (deps.metrics.ingested) deps.metrics.ingested->Inc({}, static_cast<double>(counts->accepted));
  if (deps.metrics.duplicates) {
    deps.metrics.duplicates->Inc({}, static_cast<double>(counts->duplicates));
  }
  if (deps.metrics.batch_size) {
    deps.metrics.batch_size->Observe({}, static_cast<double>(events->size()));
  }
  nlohmann::json body = {{"accepted", counts->accepted}, {"duplicates", counts->duplicates}};
  return JsonResponse(202, body.dump());
}

}  // namespace auri::api
