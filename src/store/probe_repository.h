#pragma once
// Database probes of `auri verify` (spec 40-dr.md, "Verification"): a real committed write and
// read-back, the probe trigger's job count, and the removal of everything a verification created.
#include <chrono>
#include <string>

#include "common/result.h"
#include "store/pool.h"

namespace auri {

// Inserts a tagged auth_failures row ("auri-verify-probe-…"), commits, reads it back in a new
// transaction, deletes it and commits. OK means the database accepts and returns committed writes.
// Errors: those of Acquire; kUnavailable/kDeadlineExceeded (lost, read-only, timed out); kInternal.
Status ProbeDatabaseReadWrite(ConnectionPool& pool, std::chrono::milliseconds timeout);

// action_jobs rows of `trigger_id`.
Result<int64_t> CountJobsForTrigger(ConnectionPool& pool, const std::string& trigger_id,
                                    std::chrono::milliseconds timeout);

// Removes a verification's probe data: the user `username` with the organizations it owns
// (triggers, jobs and results cascade) and the event `event_id` with its dedupe row; an
// event-processor checkpoint left ahead of the newest remaining event is pulled back to it.
Status DeleteProbeData(ConnectionPool& pool, const std::string& username,
                       const std::string& event_id, std::chrono::milliseconds timeout);

}  // namespace auri
