#pragma once
// The event-processor role (spec 20-pipeline.md, "Processing semantics"): evaluates every queued
// event exactly once against the enabled triggers and writes the action jobs of the matches.
//
// One loop thread:
//   reload the trigger index when notified (LISTEN trigger_changed) or every
//   trigger_reload_interval → partition maintenance every maintenance_interval → back pressure
//   check → one batch (store/event_queue.h: claim, lock, evaluate, write, commit in ONE
//   transaction) → when the batch was not full, wait for LISTEN new_event at most poll_interval.
// Evaluation per event and candidate trigger (the index applies the created_at guard): circuit
// breaker admission, EvaluateTrigger with the per-condition states (updated in memory across the
// events of a batch, written once), breaker success/failure, and for a match one job per action in
// priority order with snapshots of the action config and the event.
//
// Metrics (registered in the constructor; one EventProcessor per registry):
//   auri_events_evaluated_total                     events evaluated (committed batches)
//   auri_events_matched_total                       events that matched at least one trigger
//   auri_trigger_evaluations_total{outcome}         matched | not_matched | error | skipped_open
//   auri_action_jobs_created_total                  jobs inserted
//   auri_processing_lag_seconds                     now − enqueue time of the oldest event of the
//                                                   last batch (0 when the queue is empty)
//   auri_processor_stage_duration_seconds{stage}    claim | evaluate | commit, per batch
//   auri_processor_batch_failures_total             batches rolled back
//   auri_processor_backpressure                     1 while claiming is paused
//   auri_processor_triggers                         triggers in the index
//
// Thread-safety: Run/Drain/ReloadTriggers/RunMaintenance from one thread; RequestStop, Health and
// the metrics from any thread.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/result.h"
#include "pipeline/trigger_index.h"
#include "store/pool.h"

namespace auri {

struct EventProcessorOptions {
  std::string processor_id;  // event_processor_checkpoints key, e.g. "host:pid"
  int batch_size = 100;
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds trigger_reload_interval{30000};
  std::chrono::milliseconds maintenance_interval{3600000};
  int partition_months_ahead = 3;
  int retention_days = 365;
  int64_t max_pending_jobs = 100000;
  std::chrono::milliseconds db_timeout{5000};  // waiting for a pooled connection
};

class EventProcessor {
 public:
  // `pool`, `log`, `metrics`, `clock` are not owned and must outlive the processor.
  EventProcessor(ConnectionPool& pool, EventProcessorOptions options, const Logger& log,
                 MetricsRegistry& metrics, const Clock& clock);
  ~EventProcessor();
  EventProcessor(const EventProcessor&) = delete;
  EventProcessor& operator=(const EventProcessor&) = delete;

  // Loads the trigger index and runs the partition maintenance once. Errors: those of the store
  // (kUnavailable when PostgreSQL cannot be reached).
  Status Start();

  // The loop above, until RequestStop. Database errors are logged and retried (with the poll
  // interval as backoff); it never returns early. A batch in progress when the stop is requested
  // is finished (committed) first. REQUIRES: Start succeeded.
  void Run();

  // Makes Run return after the current batch (at the latest after one poll interval).
  void RequestStop() { stop_.store(true); }

  // Processes batches until the queue has nothing claimable, ignoring back pressure; returns the
  // number of events evaluated. For tests and benchmarks. Errors: the first failed batch's.
  Result<int64_t> Drain();

  // Re-reads the enabled triggers and publishes a new index.
  Status ReloadTriggers();

  // auri_ensure_event_partitions (current month + partition_months_ahead) and retention.
  Status RunMaintenance();

  struct Health {
    bool database_ok = false;  // the last database round trip succeeded recently
    bool backpressure = false;
    int64_t triggers = 0;
    double lag_seconds = 0;
  };
  Health CurrentHealth() const;

 private:
  struct Metrics;
  class BatchEvaluator;

  // One batch; returns events claimed.
  Result<int64_t> ProcessOneBatch();
  bool BackPressured();
  void UpdateLag();
  void MarkDatabaseOk();

  ConnectionPool& pool_;
  EventProcessorOptions options_;
  const Logger& log_;
  const Clock& clock_;
  std::unique_ptr<Metrics> metrics_;
  pipeline::CurrentTriggerIndex index_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> backpressure_{false};
  std::atomic<int64_t> trigger_count_{0};
  std::atomic<double> lag_seconds_{0};
  std::atomic<int64_t> last_db_ok_ms_{0};  // clock_.UnixMillis() of the last success

  std::chrono::steady_clock::time_point next_pending_check_{};
  std::chrono::steady_clock::time_point next_lag_update_{};
  int64_t next_min_seq_ = 0;  // claim hint while draining a backlog (0: from the start)
  std::chrono::steady_clock::time_point next_full_scan_{};
};

}  // namespace auri
