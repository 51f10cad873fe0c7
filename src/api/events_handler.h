#pragma once
// POST /api/v1/events: event ingestion (spec 10-api.md, "Events"). The handler validates with
// src/pipeline and writes through a callback, so this layer includes neither store nor secrets
// headers; src/cli wires the callbacks to the repository and the secret store.
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "common/result.h"
#include "pipeline/event.h"

namespace auri {
class CounterFamily;
class HistogramFamily;
class Logger;
class MetricsRegistry;
}  // namespace auri

namespace auri::api {

struct IngestCounts {
  int64_t accepted = 0;
  int64_t duplicates = 0;
};

struct IngestMetrics {
  CounterFamily* ingested = nullptr;      // auri_events_ingested_total
  CounterFamily* duplicates = nullptr;    // auri_events_duplicate_total
  HistogramFamily* batch_size = nullptr;  // auri_ingest_batch_size
};

// Adds the ingestion metric families to `registry` (call once per registry).
IngestMetrics RegisterIngestMetrics(MetricsRegistry* registry);

struct IngestDeps {
  // Stores a validated batch all-or-nothing and returns the counts only after commit. Errors as
  // auri::InsertEvents (kUnavailable/kDeadlineExceeded become 503 with Retry-After). Thread-safe.
  std::function<Result<IngestCounts>(const std::vector<pipeline::Event>&)> store;
  IngestMetrics metrics;           // any member may be null (not recorded)
  const Logger* logger = nullptr;  // for 5xx details; may be null
};

// Handles one POST /api/v1/events request, already authenticated by the pipeline:
//   403 forbidden unless the caller is the ingest token or an API key with `write`
//   415 unsupported_media_type unless Content-Type is application/json (parameters allowed)
//   400 validation_error, details.fields {"events[3].score": "..."}; nothing is stored
//   202 {"accepted": n, "duplicates": m} after commit; 503 service_unavailable when the database
//   is unreachable. REQUIRES: deps.store is set.
HttpResponse HandleIngestEvents(const IngestDeps& deps, const HttpRequest& request);

}  // namespace auri::api
