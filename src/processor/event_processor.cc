#include "processor/event_processor.h"

#include <algorithm>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "store/event_queue.h"
#include "store/notification_listener.h"
#include "store/trigger_loader.h"

namespace auri {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// Longest time Run waits before it looks at the stop flag again.
constexpr milliseconds kStopCheckInterval(200);
// Longest time a processor draining a backlog claims after its last batch only (see
// ProcessOneBatch).
constexpr milliseconds kFullScanInterval(5000);

struct EventProcessor::Metrics {
  CounterFamily* evaluated;
  CounterFamily* matched;
  CounterFamily* trigger_evaluations;
  CounterFamily* jobs_created;
  CounterFamily* batch_failures;
  HistogramFamily* stage;
};

// The EventBatchHandler of one batch: candidates from the index loaded when the batch started
// (kept alive by the shared_ptr, so CompiledTrigger pointers stay valid), then evaluation under
// the row locks taken by the store.
class EventProcessor::BatchEvaluator final : public EventBatchHandler {
 public:
  BatchEvaluator(std::shared_ptr<const pipeline::TriggerIndex> index, int64_t now_ms,
                 const Logger& log)
      : index_(std::move(index)), now_ms_(now_ms), log_(log) {}

  std::vector<std::string> TriggersToLock(const std::vector<QueuedEvent>& events) override {
    candidates_.resize(events.size());
    std::vector<std::string> ids;
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < events.size(); ++i) {
      index_->Candidates(events[i].event, &candidates_[i]);
      for (const pipeline::CompiledTrigger* t : candidates_[i]) {
        if (seen.insert(t->definition.id).second) ids.push_back(t->definition.id);
      }
    }
    return ids;
  }

  Result<BatchWrites> Evaluate(const std::vector<QueuedEvent>& events,
                               const std::unordered_map<std::string, LockedTrigger>& triggers,
                               const pipeline::StoredStates& stored) override {
    BatchWrites writes;
    pipeline::StoredStates states = stored;  // advanced event by event within the batch
    std::unordered_map<std::string, pipeline::CircuitBreakerState> breakers;
    // condition id → index in writes.states, so each condition is written once (final state).
    std::unordered_map<std::string, size_t> state_slot;

    for (size_t i = 0; i < events.size(); ++i) {
      const pipeline::Event& event = events[i].event;
      bool event_matched = false;
      std::string event_json;  // built once, on the first match
      for (const pipeline::CompiledTrigger* t : candidates_[i]) {
        const std::string& trigger_id = t->definition.id;
        auto locked = triggers.find(trigger_id);
        // Deleted or disabled since the index was built: not a candidate any more.
        if (locked == triggers.end() || !locked->second.enabled) continue;
        auto [cur, inserted] = breakers.try_emplace(trigger_id, locked->second.breaker);
        pipeline::CircuitBreaker cb(locked->second.breaker_config, cur->second);
        if (!cb.AllowEvaluation(now_ms_)) {
          ++skipped_open;
          cur->second = cb.state();
          continue;
        }
        pipeline::Evaluation ev = pipeline::EvaluateTrigger(*t, event, states);
        if (ev.outcome == pipeline::Outcome::kError) {
          ++errors;
          pipeline::BreakerState before = cb.state().state;
          cb.RecordFailure(now_ms_);
          if (before != pipeline::BreakerState::kOpen &&
              cb.state().state == pipeline::BreakerState::kOpen) {
            log_.Warn("circuit breaker opened", {{"trigger_id", trigger_id},
                                                 {"failures", cb.state().failure_count},
                                                 {"error", ev.error.ToString()}});
          } else {
            log_.Debug("trigger evaluation failed", {{"trigger_id", trigger_id},
                                                     {"event_id", event.id},
                                                     {"error", ev.error.ToString()}});
          }
          cur->second = cb.state();
          continue;
        }
        cb.RecordSuccess();
        cur->second = cb.state();
        for (pipeline::StateUpdate& u : ev.state_updates) {
          states[u.condition_id] = u.state_json;
          auto [slot, fresh] = state_slot.try_emplace(u.condition_id, writes.states.size());
          if (fresh) {
            writes.states.push_back({trigger_id, u.condition_id, std::move(u.state_json)});
          } else {
            writes.states[slot->second].state_json = std::move(u.state_json);
          }
        }
        if (ev.outcome != pipeline::Outcome::kMatched) {
          ++not_matched;
          continue;
        }
        ++matched_triggers;
        event_matched = true;
        if (event_json.empty()) event_json = pipeline::EventToJson(event);
        // definition.actions is sorted by priority (stable) when the index is built.
        for (const pipeline::ActionDefinition& a : t->definition.actions) {
          writes.jobs.push_back(
              {trigger_id, a.id, event.id, a.action_type, a.priority, a.config, event_json});
        }
      }
      if (event_matched) ++matched_events;
    }
    for (const auto& [trigger_id, state] : breakers) {
      if (!(state == triggers.at(trigger_id).breaker))
        writes.breakers.push_back({trigger_id, state});
    }
    return writes;
  }

  int64_t matched_events = 0;
  int64_t matched_triggers = 0;
  int64_t not_matched = 0;
  int64_t errors = 0;
  int64_t skipped_open = 0;

 private:
  std::shared_ptr<const pipeline::TriggerIndex> index_;
  int64_t now_ms_;
  const Logger& log_;
  std::vector<std::vector<const pipeline::CompiledTrigger*>> candidates_;
};

EventProcessor::EventProcessor(ConnectionPool& pool, EventProcessorOptions options,
                               const Logger& log, MetricsRegistry& metrics, const Clock& clock)
    : pool_(pool), options_(std::move(options)), log_(log), clock_(clock) {
  metrics_ = std::make_unique<Metrics>();
  metrics_->evaluated = metrics.AddCounter("auri_events_evaluated_total",
                                           "Events evaluated against the triggers (committed).");
  metrics_->matched =
      metrics.AddCounter("auri_events_matched_total", "Events that matched at least one trigger.");
  metrics_->trigger_evaluations = metrics.AddCounter(
      "auri_trigger_evaluations_total",
      "Trigger evaluations by outcome (matched, not_matched, error, skipped_open).", {"outcome"});
  metrics_->jobs_created =
      metrics.AddCounter("auri_action_jobs_created_total", "Action jobs written to the outbox.");
  metrics_->batch_failures = metrics.AddCounter("auri_processor_batch_failures_total",
                                                "Event batches rolled back after an error.");
  metrics_->stage = metrics.AddHistogram(
      "auri_processor_stage_duration_seconds",
      "Duration of each stage of an event batch (claim, evaluate, commit).", {"stage"},
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  metrics.AddGauge("auri_processing_lag_seconds",
                   "Seconds since the oldest unprocessed event was ingested (0: queue empty).",
                   [this] { return lag_seconds_.load(); });
  metrics.AddGauge(
      "auri_processor_backpressure",
      "Whether claiming is paused because too many action jobs are pending (1) or not (0).",
      [this] { return backpressure_.load() ? 1.0 : 0.0; });
  metrics.AddGauge("auri_processor_triggers", "Enabled triggers in the in-memory index.",
                   [this] { return static_cast<double>(trigger_count_.load()); });
}

EventProcessor::~EventProcessor() = default;

void EventProcessor::MarkDatabaseOk() { last_db_ok_ms_.store(clock_.UnixMillis()); }

Status EventProcessor::Start() {
  RETURN_IF_ERROR(ReloadTriggers());
  RETURN_IF_ERROR(RunMaintenance());
  return Status::Ok();
}

Status EventProcessor::ReloadTriggers() {
  ASSIGN_OR_RETURN(std::vector<pipeline::TriggerDefinition> definitions,
                   LoadEnabledTriggers(pool_, options_.db_timeout));
  MarkDatabaseOk();
  auto index = pipeline::TriggerIndex::Build(std::move(definitions));
  if (index->broken_trigger_count() > 0) {
    log_.Warn("triggers whose conditions do not compile (every evaluation counts as a failure)",
              {{"count", static_cast<int64_t>(index->broken_trigger_count())}});
  }
  trigger_count_.store(static_cast<int64_t>(index->size()));
  index_.Publish(std::move(index));
  log_.Debug("trigger index loaded", {{"triggers", trigger_count_.load()}});
  return Status::Ok();
}

Status EventProcessor::RunMaintenance() {
  // A long timeout: creating a partition may move stragglers out of the default partition.
  milliseconds timeout = std::max(options_.db_timeout, milliseconds(30000));
  ASSIGN_OR_RETURN(int created,
                   EnsureEventPartitions(pool_, options_.partition_months_ahead, timeout));
  ASSIGN_OR_RETURN(int dropped,
                   DropExpiredEventPartitions(pool_, options_.retention_days, timeout));
  MarkDatabaseOk();
  if (created > 0 || dropped > 0) {
    log_.Info(
        "event partitions maintained",
        {{"created", created}, {"dropped", dropped}, {"retention_days", options_.retention_days}});
  }
  return Status::Ok();
}

Result<int64_t> EventProcessor::ProcessOneBatch() {
  BatchEvaluator evaluator(index_.Load(), clock_.UnixMillis(), log_);
  EventBatchOptions batch;
  batch.limit = options_.batch_size;
  // Draining a backlog: continue after the last batch instead of walking the queue index from
  // its start (see EventBatchOptions::min_seq); from the start again at least every 5 s and
  // whenever the backlog is drained, so rows of a crashed batch are never left behind.
  auto now = Steady::now();
  if (now >= next_full_scan_) next_min_seq_ = 0;
  if (next_min_seq_ == 0) next_full_scan_ = now + kFullScanInterval;
  batch.min_seq = next_min_seq_;
  batch.processor_id = options_.processor_id;
  batch.acquire_timeout = options_.db_timeout;
  Result<EventBatchResult> r = ProcessEventBatch(pool_, batch, evaluator);
  if (!r.ok()) {
    metrics_->batch_failures->Inc({});
    return r.status();
  }
  MarkDatabaseOk();
  const int64_t taken = r->claimed + r->orphans;
  next_min_seq_ = taken >= options_.batch_size ? r->max_seq + 1 : 0;
  if (batch.min_seq == 0 || taken > 0) lag_seconds_.store(r->oldest_age_seconds);
  // Counted only after COMMIT: a rolled-back batch did not happen.
  if (r->claimed > 0) {
    metrics_->evaluated->Inc({}, static_cast<double>(r->claimed));
    metrics_->matched->Inc({}, static_cast<double>(evaluator.matched_events));
    metrics_->trigger_evaluations->Inc({"matched"},
                                       static_cast<double>(evaluator.matched_triggers));
    metrics_->trigger_evaluations->Inc({"not_matched"}, static_cast<double>(evaluator.not_matched));
    metrics_->trigger_evaluations->Inc({"error"}, static_cast<double>(evaluator.errors));
    metrics_->trigger_evaluations->Inc({"skipped_open"},
                                       static_cast<double>(evaluator.skipped_open));
    metrics_->jobs_created->Inc({}, static_cast<double>(r->jobs_created));
    metrics_->stage->Observe({"claim"}, r->claim_seconds);
    metrics_->stage->Observe({"evaluate"}, r->evaluate_seconds);
    metrics_->stage->Observe({"commit"}, r->commit_seconds);
  }
  return taken;
}

Result<int64_t> EventProcessor::Drain() {
  int64_t total = 0;
  while (true) {
    ASSIGN_OR_RETURN(int64_t n, ProcessOneBatch());
    total += n;
    if (n < options_.batch_size) return total;
  }
}

bool EventProcessor::BackPressured() {
  auto now = Steady::now();
  // Counting is cheap but not free: at most once a second, and the answer is reused meanwhile.
  if (now < next_pending_check_) return backpressure_.load();
  next_pending_check_ = now + milliseconds(1000);
  Result<int64_t> pending =
      CountPendingJobs(pool_, options_.max_pending_jobs + 1, options_.db_timeout);
  if (!pending.ok()) return backpressure_.load();
  MarkDatabaseOk();
  bool over = *pending > options_.max_pending_jobs;
  if (over != backpressure_.exchange(over)) {
    if (over) {
      log_.Warn("back pressure: pending action jobs above delivery.max_pending; not claiming",
                {{"max_pending", options_.max_pending_jobs}});
    } else {
      log_.Info("back pressure released; claiming again");
    }
  }
  return over;
}

void EventProcessor::UpdateLag() {
  auto now = Steady::now();
  if (now < next_lag_update_) return;
  next_lag_update_ = now + milliseconds(1000);
  Result<double> lag = OldestQueuedEventAgeSeconds(pool_, options_.db_timeout);
  if (lag.ok()) lag_seconds_.store(*lag);
}

void EventProcessor::Run() {
  // LISTEN on the pool's database, following it across a switch (`auri restore --switch`).
  NotificationListener listener(pool_, {"new_event", "trigger_changed"});
  auto next_reload = Steady::now() + options_.trigger_reload_interval;
  auto next_maintenance = Steady::now() + options_.maintenance_interval;
  bool reload_needed = false;
  bool failing = false;  // log a failure once, and its recovery once
  milliseconds wait(0);

  while (!stop_.load()) {
    // Wake-ups (and trigger changes) since the last round; waits only when the last batch was
    // not full, so a backlog is drained without pauses.
    // The wait is cut into slices so a stop request is seen within one slice, whatever the poll
    // interval; a notification ends it at once.
    auto wait_until = Steady::now() + wait;
    bool first_slice = true;
    while (!stop_.load() && (first_slice || Steady::now() < wait_until)) {
      first_slice = false;
      auto slice = std::min(std::chrono::duration_cast<milliseconds>(wait_until - Steady::now()),
                            kStopCheckInterval);
      if (slice.count() < 0) slice = milliseconds(0);
      Result<NotificationListener::Wakeup> woke = listener.Wait(slice);
      if (!woke.ok()) {
        std::this_thread::sleep_for(slice);  // no listener: plain polling
        continue;
      }
      if (woke->reconnected || woke->channels.count("trigger_changed")) reload_needed = true;
      if (woke->reconnected || !woke->channels.empty()) break;
    }
    if (stop_.load()) break;
    wait = options_.poll_interval;

    auto now = Steady::now();
    if (reload_needed || now >= next_reload) {
      Status s = ReloadTriggers();
      if (s.ok()) {
        reload_needed = false;
        next_reload = now + options_.trigger_reload_interval;
      } else {
        log_.Warn("reloading triggers failed; keeping the previous index",
                  {{"error", s.ToString()}});
      }
    }
    if (now >= next_maintenance) {
      Status s = RunMaintenance();
      if (!s.ok()) log_.Warn("partition maintenance failed", {{"error", s.ToString()}});
      next_maintenance = now + (s.ok() ? options_.maintenance_interval : milliseconds(60000));
    }
    if (BackPressured()) {
      UpdateLag();  // not claiming, so the batches do not measure it
      continue;
    }

    Result<int64_t> n = ProcessOneBatch();
    if (!n.ok()) {
      if (!failing) log_.Error("event batch failed; retrying", {{"error", n.status().ToString()}});
      failing = true;
      continue;
    }
    if (failing) log_.Info("event batches succeed again");
    failing = false;
    if (*n >= options_.batch_size) wait = milliseconds(0);
  }
}

EventProcessor::Health EventProcessor::CurrentHealth() const {
  Health h;
  int64_t fresh_ms = std::max<int64_t>(10000, 5 * options_.poll_interval.count());
  h.database_ok = clock_.UnixMillis() - last_db_ok_ms_.load() <= fresh_ms;
  h.backpressure = backpressure_.load();
  h.triggers = trigger_count_.load();
  h.lag_seconds = lag_seconds_.load();
  return h;
}

}  // namespace auri
