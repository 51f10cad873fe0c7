#pragma once
// Triggers, their conditions and actions, circuit-breaker settings, delivery results, dead
// letters and the event query (spec 10-api.md, "Triggers", "Events").
//
// Tenancy: every function that touches a trigger takes the caller's organization id and matches
// the trigger on (id, organization_id), so a trigger of another organization is indistinguishable
// from one that does not exist (kNotFound). Children (conditions, actions, jobs) are matched on
// their trigger too.
//
// Rows cross this boundary as plain values; JSON columns (config) travel as JSON text and
// timestamps as RFC 3339 UTC text ("2026-01-02T03:04:05.123456Z"). Validation of content
// (condition rules, action configs) belongs to the callers: the write functions take a `check`
// callback that runs inside the transaction after the trigger row is locked, so a check that
// depends on the trigger (is_stateful, registry) cannot race a concurrent update of it.
//
// Errors common to every function: those of ConnectionPool::Acquire; kUnavailable on a lost
// connection (which is then discarded); kDeadlineExceeded on statement timeout; kInvalidArgument
// when the database refuses a value (a CHECK constraint, i.e. a validation gap); kInternal
// otherwise. A failed write changed nothing.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/pool.h"

namespace auri {

// At most this many conditions and actions per trigger (every input has a size limit).
inline constexpr int64_t kMaxConditionsPerTrigger = 50;
inline constexpr int64_t kMaxActionsPerTrigger = 20;

struct TriggerFields {
  std::string name;
  std::optional<std::string> description;
  std::optional<int64_t> chain_id;  // nullopt: any chain
  std::string registry;
  bool enabled = true;
  bool is_stateful = false;
};

struct BreakerRow {
  std::string state;  // Closed | Open | HalfOpen
  int32_t failure_count = 0;
  std::optional<std::string> last_failure_time;
  std::optional<std::string> opened_at;
  int32_t half_open_calls = 0;
  int32_t failure_threshold = 10;
  int32_t recovery_timeout_seconds = 3600;
  int32_t half_open_max_calls = 1;
};

struct TriggerRow {
  std::string id;
  std::string organization_id;
  std::optional<std::string> user_id;
  TriggerFields fields;
  BreakerRow breaker;
  std::string created_at;
  std::string updated_at;
};

struct ConditionFields {
  std::string condition_type;
  std::optional<std::string> field;
  std::optional<std::string> op;
  std::string value;
  std::string config_json = "{}";
};

struct ConditionRow {
  std::string id;
  std::string trigger_id;
  ConditionFields fields;
  std::string created_at;
  std::string updated_at;
};

struct ActionFields {
  std::string action_type;
  int32_t priority = 0;
  std::string config_json = "{}";
};

struct ActionRow {
  std::string id;
  std::string trigger_id;
  ActionFields fields;
  std::string created_at;
  std::string updated_at;
};

struct TriggerWithChildren {
  TriggerRow trigger;
  std::vector<ConditionRow> conditions;  // evaluation (creation) order
  std::vector<ActionRow> actions;        // priority, then creation order
};

template <typename T>
struct RowPage {
  std::vector<T> rows;
  int64_t total = 0;  // rows matching the filters, ignoring limit/offset
};

// Runs inside a write transaction with the trigger row as it is now (locked). A non-OK Status
// aborts the write and is returned as is.
using TriggerCheck = std::function<Status(const TriggerRow& trigger)>;

// Creates a trigger with its conditions and actions in ONE transaction (all or nothing).
// `user_id` (the creator) may be empty (API keys). Errors: kInvalidArgument when there are more
// than the per-trigger maximum of conditions or actions.
Result<TriggerWithChildren> CreateTrigger(ConnectionPool& pool, const std::string& organization_id,
                                          const std::string& user_id, const TriggerFields& fields,
                                          const std::vector<ConditionFields>& conditions,
                                          const std::vector<ActionFields>& actions,
                                          std::chrono::milliseconds timeout);

struct TriggerFilter {
  std::optional<bool> enabled;
  std::optional<std::string> registry;
  std::optional<int64_t> chain_id;
};

// The organization's triggers, newest first (then by id), `limit` from `offset`.
Result<RowPage<TriggerRow>> ListTriggers(ConnectionPool& pool, const std::string& organization_id,
                                         const TriggerFilter& filter, int64_t limit, int64_t offset,
                                         std::chrono::milliseconds timeout);

// One trigger with its conditions and actions. kNotFound when it is not the organization's.
Result<TriggerWithChildren> GetTrigger(ConnectionPool& pool, const std::string& organization_id,
                                       const std::string& trigger_id,
                                       std::chrono::milliseconds timeout);

// Replaces the trigger's fields. kNotFound as above; kFailedPrecondition when is_stateful would
// become false while the trigger has stateful conditions (ema_threshold, rate_limit).
Result<TriggerRow> UpdateTrigger(ConnectionPool& pool, const std::string& organization_id,
                                 const std::string& trigger_id, const TriggerFields& fields,
                                 std::chrono::milliseconds timeout);

// Deletes the trigger (cascading to conditions, actions, state, jobs, results). kNotFound as above.
Status DeleteTrigger(ConnectionPool& pool, const std::string& organization_id,
                     const std::string& trigger_id, std::chrono::milliseconds timeout);

// ---- Conditions ---------------------------------------------------------------------------------

// Appends a condition after `check` accepted it. kNotFound (trigger); kInvalidArgument when the
// trigger already has the maximum number of conditions.
Result<ConditionRow> CreateCondition(ConnectionPool& pool, const std::string& organization_id,
                                     const std::string& trigger_id, const ConditionFields& fields,
                                     const TriggerCheck& check, std::chrono::milliseconds timeout);

// The trigger's conditions in evaluation order, paginated. kNotFound (trigger).
Result<RowPage<ConditionRow>> ListConditions(ConnectionPool& pool,
                                             const std::string& organization_id,
                                             const std::string& trigger_id, int64_t limit,
                                             int64_t offset, std::chrono::milliseconds timeout);

// Replaces a condition (keeping its position) and clears its stored state, which belonged to the
// old definition. kNotFound when the trigger or the condition (of that trigger) does not exist.
Result<ConditionRow> UpdateCondition(ConnectionPool& pool, const std::string& organization_id,
                                     const std::string& trigger_id, const std::string& condition_id,
                                     const ConditionFields& fields, const TriggerCheck& check,
                                     std::chrono::milliseconds timeout);

Status DeleteCondition(ConnectionPool& pool, const std::string& organization_id,
                       const std::string& trigger_id, const std::string& condition_id,
                       std::chrono::milliseconds timeout);

// ---- Actions ------------------------------------------------------------------------------------

Result<ActionRow> CreateAction(ConnectionPool& pool, const std::string& organization_id,
                               const std::string& trigger_id, const ActionFields& fields,
                               std::chrono::milliseconds timeout);
// Priority, then creation order; paginated.
Result<RowPage<ActionRow>> ListActions(ConnectionPool& pool, const std::string& organization_id,
                                       const std::string& trigger_id, int64_t limit, int64_t offset,
                                       std::chrono::milliseconds timeout);
Result<ActionRow> UpdateAction(ConnectionPool& pool, const std::string& organization_id,
                               const std::string& trigger_id, const std::string& action_id,
                               const ActionFields& fields, std::chrono::milliseconds timeout);
Status DeleteAction(ConnectionPool& pool, const std::string& organization_id,
                    const std::string& trigger_id, const std::string& action_id,
                    std::chrono::milliseconds timeout);

// ---- Circuit breaker ----------------------------------------------------------------------------

// Sets the breaker's configuration (REQUIRES: values within the ranges of
// pipeline::ValidateCircuitBreakerConfig). Runtime state is kept. Returns the trigger.
Result<TriggerRow> UpdateBreakerConfig(ConnectionPool& pool, const std::string& organization_id,
                                       const std::string& trigger_id, int32_t failure_threshold,
                                       int32_t recovery_timeout_seconds,
                                       int32_t half_open_max_calls,
                                       std::chrono::milliseconds timeout);

// Back to a fresh Closed breaker (failure count, times and half-open calls cleared; config kept).
Result<TriggerRow> ResetBreaker(ConnectionPool& pool, const std::string& organization_id,
                                const std::string& trigger_id, std::chrono::milliseconds timeout);

// ---- Delivery history ---------------------------------------------------------------------------

struct ActionResultRow {
  std::string id;
  std::string job_id;
  std::string event_id;
  std::string action_type;
  std::string status;  // success | failed
  int32_t attempts = 0;
  int64_t duration_ms = 0;
  std::optional<int32_t> status_code;
  std::optional<std::string> error;
  std::optional<std::string> response_excerpt;
  std::string created_at;
};

// The trigger's action results, newest first. kNotFound (trigger).
Result<RowPage<ActionResultRow>> ListActionResults(ConnectionPool& pool,
                                                   const std::string& organization_id,
                                                   const std::string& trigger_id, int64_t limit,
                                                   int64_t offset,
                                                   std::chrono::milliseconds timeout);

struct JobRow {
  std::string id;
  std::optional<std::string> action_id;
  std::string event_id;
  std::string action_type;
  int32_t priority = 0;
  std::string status;
  int32_t attempts = 0;
  int32_t max_attempts = 0;
  std::string next_attempt_at;
  std::optional<std::string> last_error;
  std::optional<int32_t> last_status_code;
  std::string created_at;
  std::string updated_at;
};

// The trigger's dead jobs (status dead), most recently updated first. kNotFound (trigger).
Result<RowPage<JobRow>> ListDeadLetters(ConnectionPool& pool, const std::string& organization_id,
                                        const std::string& trigger_id, int64_t limit,
                                        int64_t offset, std::chrono::milliseconds timeout);

// Makes a dead job pending again, due now, with attempts reset to 0 and no lease (the database
// wakes the workers with NOTIFY action_job). last_error/last_status_code are kept until the next
// attempt. kNotFound when the trigger or the job (of that trigger) does not exist;
// kFailedPrecondition when the job is not dead.
Result<JobRow> ReplayDeadLetter(ConnectionPool& pool, const std::string& organization_id,
                                const std::string& trigger_id, const std::string& job_id,
                                std::chrono::milliseconds timeout);

// ---- Events -------------------------------------------------------------------------------------

struct EventFilter {
  std::optional<int64_t> chain_id;
  std::optional<std::string> registry;
  std::optional<std::string> event_type;
  std::optional<int64_t> agent_id;
  std::optional<int64_t> since_unix_micros;  // block time >= since
  std::optional<int64_t> until_unix_micros;  // block time < until
};

// Stored events matching `filter`, newest block time first (then block number, log index
// descending), each as a JSON object text with every column except the internal block_time
// (ingested_at as RFC 3339).
Result<RowPage<std::string>> QueryEvents(ConnectionPool& pool, const EventFilter& filter,
                                         int64_t limit, int64_t offset,
                                         std::chrono::milliseconds timeout);

}  // namespace auri
