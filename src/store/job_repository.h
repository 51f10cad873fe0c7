#pragma once
// The action_jobs outbox (spec 30-delivery.md, "Jobs"): claiming due jobs with a lease, finishing
// them with one action_results row, rescheduling retries, releasing leases, dead letters, replay
// and retention. Every function is one short transaction; thread-safe (the pool is).
//
// Errors (all functions): those of ConnectionPool::Acquire, kUnavailable when the connection was
// lost (it is then discarded), kDeadlineExceeded on statement timeout, kInternal otherwise.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/pool.h"

namespace auri {

// One claimed job. config and event_data are JSON text (the jsonb snapshots).
struct ClaimedJob {
  std::string id;  // UUID; also the Idempotency-Key and webhook-id
  std::string trigger_id;
  std::string event_id;
  std::string action_type;  // telegram | webhook | rest
  std::string config;       // JSON object text
  std::string event_data;   // JSON object text
  std::string trigger_name;
  int attempts = 0;           // attempts made BEFORE this one
  int max_attempts = 5;       // from the row
  int64_t created_at_ms = 0;  // unix ms, for delivery latency
};

// Claims up to `limit` due jobs (status pending, next_attempt_at <= now()), highest priority
// (lowest number first, as the claim index orders) then oldest, with FOR UPDATE SKIP LOCKED so
// concurrent workers never claim the same job. Claimed jobs become running with lease_owner =
// `owner` and lease_expires_at = now() + `lease`. `limit` <= 0 returns an empty list without a
// query.
Result<std::vector<ClaimedJob>> ClaimDueJobs(ConnectionPool& pool, const std::string& owner,
                                             int limit, std::chrono::seconds lease,
                                             std::chrono::milliseconds timeout);

// Makes running jobs whose lease expired (their worker died) pending again, due now. Returns how
// many were reclaimed. The attempt that was in flight is not counted (it may or may not have
// reached the receiver; delivery is at least once).
Result<int64_t> ReclaimExpiredLeases(ConnectionPool& pool, std::chrono::milliseconds timeout);

struct JobOutcome {
  bool success = false;
  int attempts = 0;  // total attempts made, including this one
  int64_t duration_ms = 0;
  std::optional<int> status_code;
  std::string error;             // empty = none
  std::string response_excerpt;  // at most 1 KiB
};

struct FinishedJob {
  std::string job_id;
  JobOutcome outcome;
};

// Moves jobs leased by `owner` to succeeded (outcome.success) or dead and writes one
// action_results row for each, all in ONE transaction (a job is never finished without its
// result row). Jobs no longer leased by `owner` (the lease expired and another worker took them)
// are left alone and get no row. Returns how many were finished. Text that PostgreSQL cannot
// store (NUL bytes, invalid UTF-8 — a response excerpt cut inside a character) is repaired with
// U+FFFD instead of failing the batch.
Result<int64_t> FinishJobs(ConnectionPool& pool, const std::string& owner,
                           const std::vector<FinishedJob>& jobs, std::chrono::milliseconds timeout);

struct RetryingJob {
  std::string job_id;
  int attempts = 0;  // total attempts made so far
  std::chrono::milliseconds delay{0};
  std::string error;
  std::optional<int> status_code;
};

// Makes jobs leased by `owner` pending again with their attempts, due after their delay,
// recording the error and status code, in one transaction. Returns how many were rescheduled
// (jobs whose lease was lost are left alone).
Result<int64_t> RescheduleJobs(ConnectionPool& pool, const std::string& owner,
                               const std::vector<RetryingJob>& jobs,
                               std::chrono::milliseconds timeout);

// Makes every job leased by `owner` pending again (graceful shutdown); returns how many.
Result<int64_t> ReleaseLeases(ConnectionPool& pool, const std::string& owner,
                              std::chrono::milliseconds timeout);

struct QueueStats {
  int64_t pending = 0;  // due or waiting for a retry
  int64_t running = 0;
  double oldest_pending_age_seconds = 0;  // 0 when none is due
};
Result<QueueStats> ReadQueueStats(ConnectionPool& pool, std::chrono::milliseconds timeout);

struct DeadLetter {
  std::string id;
  std::string trigger_id;
  std::string event_id;
  std::string action_type;
  int attempts = 0;
  std::string last_error;
  std::optional<int> last_status_code;
  std::string updated_at;  // ISO 8601 UTC
};
// Dead jobs, newest first, at most `limit`; only those of `trigger_id` when it is non-empty.
Result<std::vector<DeadLetter>> ListDeadLetters(ConnectionPool& pool, const std::string& trigger_id,
                                                int limit, std::chrono::milliseconds timeout);

// Replays dead letters: attempts = 0, pending, due now (the database trigger NOTIFYs the workers).
// By job id, or every dead job of a trigger. Returns how many were replayed (0 = none was dead).
Result<int64_t> ReplayDeadLetter(ConnectionPool& pool, const std::string& job_id,
                                 std::chrono::milliseconds timeout);
Result<int64_t> ReplayDeadLettersOfTrigger(ConnectionPool& pool, const std::string& trigger_id,
                                           std::chrono::milliseconds timeout);

// Deletes finished jobs (succeeded or dead) and results older than `retention`. Returns the number
// of jobs deleted (their results go with them by cascade; old results of replayed jobs too).
Result<int64_t> PurgeOldJobs(ConnectionPool& pool, std::chrono::hours retention,
                             std::chrono::milliseconds timeout);

}  // namespace auri

namespace auri {

// A dedicated connection that LISTENs on `action_job` (the NOTIFY sent when jobs are inserted or
// replayed). Not pooled: LISTEN is session state. Not thread-safe; one waiter.
class JobNotificationListener {
 public:
  // Listens on the database of `pool` and follows it across ConnectionPool::Reconfigure (the next
  // Wait reconnects to the new database). `pool` is not owned and must outlive the listener.
  explicit JobNotificationListener(const ConnectionPool& pool);
  ~JobNotificationListener();
  JobNotificationListener(const JobNotificationListener&) = delete;
  JobNotificationListener& operator=(const JobNotificationListener&) = delete;

  // Waits at most `timeout` for a notification. Returns true when one arrived, false on timeout.
  // Connects (and LISTENs) lazily; after a connection error it returns the error once and
  // reconnects on the next call, so callers fall back to polling meanwhile.
  Result<bool> Wait(std::chrono::milliseconds timeout);

 private:
  struct State;
  const ConnectionPool& pool_;
  std::unique_ptr<State> state_;
};

}  // namespace auri
