#include "api/events_handler.h"

#include <nlohmann/json.hpp>
#include <string>

#include "api/errors.h"
#include "api/json_body.h"
#include "auth/api_key.h"
#include "common/metrics.h"
#include "pipeline/field_error.h"

namespace auri::api {

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
  // The pipeline authenticated the request (the route is `authenticated`); here only who may
  // ingest is decided: the ingest token, or an API key holding `write`.
  const Caller& caller = request.caller;
  bool key_can_write =
      caller.kind == CallerKind::kApiKey &&
      (caller.permission_bits & (static_cast<unsigned>(ApiKeyPermission::kWrite) |
                                 static_cast<unsigned>(ApiKeyPermission::kAdmin))) != 0;
  if (caller.kind != CallerKind::kIngestToken && !key_can_write) {
    return ErrorResponse(403, "forbidden",
                         "ingestion needs the ingest token or an api key with 'write'");
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
