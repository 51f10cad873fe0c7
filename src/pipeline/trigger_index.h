#pragma once
// The in-memory index of enabled triggers that finds an event's candidate triggers without
// scanning them all (spec 20-pipeline.md, "Processing semantics"; 10,000 triggers ≤ 100 µs/event).
//
// Keys. Every enabled trigger sits in exactly one bucket keyed by
//   (registry, chain_id or "any", event type or "any", agent id or "any").
// A trigger's event type / agent id come from the first `event_type_equals` / `agent_id_equals`
// condition that appears BEFORE its first stateful condition; otherwise that part is "any".
// Pins after a stateful condition are not used: by the short-circuit rule (condition.h) the
// stateful condition must observe events those later conditions reject, so the index must still
// deliver them. An event looks up at most 2 × 2 × 2 = 8 buckets (its chain / any, its type / any,
// its agent / any); the cost is independent of the number of triggers that cannot match.
//
// The created_at guard is applied here, in Candidates(): a trigger is not a candidate for an event
// whose block time (timestamp, seconds) is earlier than the trigger's created_at. So a skipped
// event neither touches the trigger's state nor its circuit breaker; it did not happen, as far as
// the trigger is concerned.
//
// A trigger whose stored conditions no longer compile (e.g. a stateful condition on a trigger
// later switched to is_stateful = false) is still indexed, without pins: EvaluateTrigger reports
// an error for every event it sees, so the breaker opens and the problem is visible in the API
// rather than the trigger going silently quiet.
//
// Thread-safety: a TriggerIndex is immutable once built and may be read from any number of
// threads. Refresh builds a new one and publishes it through CurrentTriggerIndex; readers keep
// the shared_ptr they loaded for as long as they use CompiledTrigger pointers from it.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pipeline/condition.h"
#include "pipeline/event.h"

namespace auri::pipeline {

// One row of trigger_actions (the fields the outbox snapshots).
struct ActionDefinition {
  std::string id;
  std::string action_type;    // telegram | webhook | rest
  int32_t priority = 0;       // lower runs first
  std::string config = "{}";  // jsonb object as JSON text
  bool operator==(const ActionDefinition&) const = default;
};

// A trigger's definition: the triggers row without circuit-breaker state (which changes on every
// failure and is read under the row lock by the processor), with its conditions and actions.
struct TriggerDefinition {
  std::string id;
  std::string organization_id;
  std::string name;
  std::optional<int64_t> chain_id;  // nullopt = any chain
  std::string registry;
  bool enabled = true;
  bool is_stateful = false;
  int64_t created_at_ms = 0;                    // unix milliseconds
  std::vector<ConditionDefinition> conditions;  // creation (position) order
  std::vector<ActionDefinition> actions;        // sorted by priority when indexed (stable)
};

struct CompiledTrigger {
  TriggerDefinition definition;
  std::vector<CompiledCondition> conditions;  // parallel to definition.conditions when compiled
  Status compile_error;                       // not OK: every evaluation is an error
  std::optional<std::string> pinned_event_type;
  std::optional<int64_t> pinned_agent_id;
};

// Evaluates the trigger's conditions (condition.h semantics); a trigger with a compile_error
// yields Outcome::kError carrying it. Does not apply the created_at guard (Candidates does).
Evaluation EvaluateTrigger(const CompiledTrigger& trigger, const Event& event,
                           const StoredStates& states);

class TriggerIndex {
 public:
  // Compiles and indexes every enabled trigger of `definitions`. Disabled triggers are dropped;
  // so are triggers with an unknown registry (the schema forbids them), which are listed in
  // unindexed_trigger_ids().
  static std::shared_ptr<const TriggerIndex> Build(std::vector<TriggerDefinition> definitions);

  // Appends to `out` (cleared first) the candidate triggers for `event`: enabled, same registry,
  // chain equal or any, pins equal or absent, created_at ≤ the event's block time. Ordered by
  // (created_at, id), so job creation order is deterministic. Pointers live as long as this index.
  void Candidates(const Event& event, std::vector<const CompiledTrigger*>* out) const;
  std::vector<const CompiledTrigger*> Candidates(const Event& event) const;

  // The indexed trigger with this id, or nullptr (not found, disabled or unindexed).
  const CompiledTrigger* Find(std::string_view trigger_id) const;

  size_t size() const { return triggers_.size(); }
  // Indexed triggers whose conditions do not compile (each has compile_error set).
  size_t broken_trigger_count() const { return broken_count_; }
  const std::vector<std::string>& unindexed_trigger_ids() const { return unindexed_; }

 private:
  struct BucketKey {
    uint8_t registry = 0;    // 0 identity, 1 reputation, 2 validation
    uint8_t event_type = 0;  // 0 = any, else 1 + index in the event-type table
    bool agent_pinned = false;
    int64_t chain_id = 0;  // 0 = any (chain ids are > 0)
    int64_t agent_id = 0;
    bool operator==(const BucketKey&) const = default;
  };
  struct BucketKeyHash {
    size_t operator()(const BucketKey& k) const;
  };

  TriggerIndex() = default;

  std::vector<CompiledTrigger> triggers_;  // sorted by (created_at, id); never resized after Build
  // A bucket entry carries created_at next to the position so the created_at guard does not
  // touch the (large) CompiledTrigger of a trigger it skips.
  struct Entry {
    int64_t created_at_ms;
    uint32_t position;  // in triggers_
  };
  std::unordered_map<BucketKey, std::vector<Entry>, BucketKeyHash> buckets_;
  std::unordered_map<std::string_view, uint32_t> by_id_;  // views into triggers_
  size_t broken_count_ = 0;
  std::vector<std::string> unindexed_;
};

// The index currently in use, replaced atomically on refresh (NOTIFY trigger_changed).
// Thread-safe. A mutex guards the pointer rather than std::atomic<std::shared_ptr>: libstdc++ 12's
// implementation releases its internal lock with relaxed ordering in load(), which
// ThreadSanitizer reports as a race; one uncontended lock per event costs nothing measurable.
class CurrentTriggerIndex {
 public:
  // Starts with an empty index, so Load() never returns null.
  CurrentTriggerIndex();
  std::shared_ptr<const TriggerIndex> Load() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  // REQUIRES: index != nullptr. The previous index is freed when its last reader lets go, outside
  // this lock.
  void Publish(std::shared_ptr<const TriggerIndex> index) {
    std::lock_guard<std::mutex> lock(mu_);
    current_.swap(index);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const TriggerIndex> current_;
};

}  // namespace auri::pipeline
