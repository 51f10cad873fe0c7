#pragma once
// Reading trigger definitions for the event-processor's in-memory index (spec 20-pipeline.md,
// "Candidate triggers").
#include <chrono>
#include <vector>

#include "common/result.h"
#include "pipeline/trigger_index.h"
#include "store/pool.h"

namespace auri {

// Every enabled trigger with its conditions (position order) and actions (priority, then
// creation order), read in one REPEATABLE READ transaction so the three tables are a consistent
// snapshot. Circuit-breaker state is not read (the processor reads it under the row lock).
// Errors: those of ConnectionPool::Acquire; kUnavailable / kDeadlineExceeded / kInternal as
// mapped by StatusFromException.
Result<std::vector<pipeline::TriggerDefinition>> LoadEnabledTriggers(
    ConnectionPool& pool, std::chrono::milliseconds timeout);

}  // namespace auri
