#pragma once
// The event-processor's side of the database (spec 20-pipeline.md, "Processing semantics"):
// claiming queued events, locking the triggers they concern, and committing everything an
// evaluation produces — trigger state, circuit-breaker state, action jobs, the removal of the
// queue rows and the processor's checkpoint — in ONE transaction. The evaluation itself is not
// here: the store calls back into an EventBatchHandler between the reads and the writes, so the
// SQL stays in src/store and the engine stays in src/pipeline / src/processor.
//
// Exactly-once: a claimed event_queue row is deleted in the same transaction that writes the
// results of its evaluation. A process that dies before COMMIT leaves nothing behind, and its
// rows become claimable again; after COMMIT they are gone, so nothing is evaluated twice.
//
// Order across processors: the claim runs under a session advisory lock that is held until the
// batch's triggers are locked (FOR NO KEY UPDATE, in id order). The next processor claims only
// after that, so its events (later in the queue) reach a shared trigger only after the first
// processor committed: a stateful trigger sees its events in queue (ingestion) order. The one
// exception: when a processor dies mid-batch, its events return to the queue and may be claimed
// after later events of another processor were already committed.
#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "pipeline/circuit_breaker.h"
#include "pipeline/condition.h"
#include "pipeline/event.h"
#include "store/pool.h"

namespace auri {

struct QueuedEvent {
  int64_t seq = 0;  // event_queue.seq: ingestion order
  pipeline::Event event;
};

// The runtime part of a triggers row, read under its row lock.
struct LockedTrigger {
  std::string id;
  bool enabled = false;
  pipeline::CircuitBreakerConfig breaker_config;
  pipeline::CircuitBreakerState breaker;
};

struct ConditionStateWrite {
  std::string trigger_id;
  std::string condition_id;
  std::string state_json;
};

struct BreakerWrite {
  std::string trigger_id;
  pipeline::CircuitBreakerState state;
};

struct NewActionJob {
  std::string trigger_id;
  std::string action_id;
  std::string event_id;
  std::string action_type;
  int32_t priority = 0;
  std::string config_json;      // snapshot of trigger_actions.config
  std::string event_data_json;  // snapshot of the event (pipeline::EventToJson)
};

// What the evaluation of one batch writes. Jobs are inserted in vector order.
struct BatchWrites {
  std::vector<ConditionStateWrite> states;  // at most one per condition (the final state)
  std::vector<BreakerWrite> breakers;       // only triggers whose breaker state changed
  std::vector<NewActionJob> jobs;
};

// The evaluation, called by ProcessEventBatch inside its transaction. Not thread-safe; one
// handler per batch call.
class EventBatchHandler {
 public:
  virtual ~EventBatchHandler() = default;
  // The ids of the triggers the batch may touch (candidates of any claimed event). Called once,
  // with the claimed events in queue order (never empty).
  virtual std::vector<std::string> TriggersToLock(const std::vector<QueuedEvent>& events) = 0;
  // Evaluates the batch. `triggers`: the locked rows by id (a trigger deleted meanwhile is
  // absent); `states`: trigger_state.state of every condition of those triggers that has a row.
  // An error aborts the transaction (nothing is written, the events stay queued).
  virtual Result<BatchWrites> Evaluate(
      const std::vector<QueuedEvent>& events,
      const std::unordered_map<std::string, LockedTrigger>& triggers,
      const pipeline::StoredStates& states) = 0;
};

struct EventBatchOptions {
  int limit = 100;  // most events claimed per batch
  // Claim only rows with seq >= min_seq. The queue index keeps the entries of deleted rows until
  // VACUUM; a claim from the start of a long-drained queue walks all of them (measured: 200 ms
  // with 300,000). A processor passes the seq after its last batch while it drains a backlog
  // and 0 otherwise, so rows of a crashed batch (lower seq) are still found, just later.
  int64_t min_seq = 0;
  std::string processor_id;  // event_processor_checkpoints.processor_id
  std::chrono::milliseconds acquire_timeout{5000};
};

struct EventBatchResult {
  int64_t claimed = 0;            // events evaluated and removed from the queue
  int64_t orphans = 0;            // queue rows whose event row was gone (removed, not evaluated)
  int64_t jobs_created = 0;       // action_jobs rows inserted (conflicts not counted)
  double claim_seconds = 0;       // claim + locks + state reads
  double evaluate_seconds = 0;    // the handler's Evaluate
  double commit_seconds = 0;      // writes + COMMIT
  int64_t max_seq = 0;            // highest seq claimed (0 when nothing was)
  double oldest_age_seconds = 0;  // now − enqueued_at of the oldest row claimed (0: none)
};

// Claims up to options.limit queued events (FOR UPDATE SKIP LOCKED, queue order), locks their
// triggers, calls `handler`, writes its BatchWrites, deletes the claimed queue rows, updates the
// checkpoint and commits — one transaction. claimed == 0 means the queue had nothing claimable
// (no handler call). Errors: those of ConnectionPool::Acquire; kUnavailable on connection loss,
// serialization failure or deadlock; kDeadlineExceeded on statement timeout; the handler's error;
// kInternal/kInvalidArgument/kFailedPrecondition for database rejections. On any error nothing
// was committed.
Result<EventBatchResult> ProcessEventBatch(ConnectionPool& pool, const EventBatchOptions& options,
                                           EventBatchHandler& handler);

// Number of pending action jobs, counting at most `limit` (the answer is min(count, limit)), so
// the query stays cheap however many there are.
Result<int64_t> CountPendingJobs(ConnectionPool& pool, int64_t limit,
                                 std::chrono::milliseconds timeout);

// Seconds between now and the enqueue time of the oldest queued event; 0 when the queue is empty.
Result<double> OldestQueuedEventAgeSeconds(ConnectionPool& pool, std::chrono::milliseconds timeout);

// Creates the monthly event partitions from the current month through `months_ahead` months
// ahead (auri_ensure_event_partitions). Returns how many were created.
Result<int> EnsureEventPartitions(ConnectionPool& pool, int months_ahead,
                                  std::chrono::milliseconds timeout);

// Retention: drops the monthly partitions (and older stragglers) that ended more than
// `retention_days` days ago (auri_drop_event_partitions). Returns how many were dropped.
Result<int> DropExpiredEventPartitions(ConnectionPool& pool, int retention_days,
                                       std::chrono::milliseconds timeout);

}  // namespace auri
