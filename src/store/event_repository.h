#pragma once
// Writing ingested events to the `events` table (spec 20-pipeline.md, "Event store").
//
// Dependency note: this takes pipeline::Event, so auri_store links auri_pipeline. That is the one
// exception to "store is below everything but common", accepted because auri_pipeline's event
// model is pure (no database, no network, no I/O) and never includes store headers; a copy of the
// 28-field struct in src/store would only add a conversion that can drift. See docs/decisions.md,
// "Ingestion".
#include <chrono>
#include <cstdint>
#include <vector>

#include "common/result.h"
#include "pipeline/event.h"
#include "store/pool.h"

namespace auri {

struct InsertEventsResult {
  int64_t accepted = 0;    // rows inserted (and enqueued in event_queue by the database trigger)
  int64_t duplicates = 0;  // events whose id was already stored (or repeated within the batch)
};

// Inserts `events` in ONE transaction with one parameterized statement (unnest of one array per
// column). The database's BEFORE INSERT trigger skips an event whose id is already known and
// enqueues every new one, so duplicates = events.size() − rows inserted. block_time is supplied as
// to_timestamp(timestamp), as the partitioning requires. Returns only after COMMIT succeeded.
//
// REQUIRES: every event passed pipeline::ValidateEvent (normalized: lowercase hex, computed id).
// `timeout` bounds the wait for a pooled connection; the statement itself is bounded by the pool's
// statement_timeout. An empty batch returns {0, 0} without touching the database.
//
// Errors: kUnavailable when PostgreSQL cannot be reached or the connection was lost (the
// connection is then discarded), kDeadlineExceeded on statement timeout or when no connection was
// free in time, kInvalidArgument when the database rejected a value (a CHECK constraint: a
// validation bug), kInternal otherwise. On any error nothing was inserted.
Result<InsertEventsResult> InsertEvents(ConnectionPool& pool,
                                        const std::vector<pipeline::Event>& events,
                                        std::chrono::milliseconds timeout);

}  // namespace auri
