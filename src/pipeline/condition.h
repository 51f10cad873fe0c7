#pragma once
// Trigger conditions (spec 20-pipeline.md, "Conditions"): validation at write time, compilation
// into a form that evaluates without parsing, evaluation of one trigger's conditions against an
// event, and the JSON shapes of the per-condition state kept in trigger_state.state.
//
// Evaluation semantics, decided here once:
//   * Conditions AND together in creation order and short-circuit: evaluation stops at the first
//     condition that is false. An empty list matches.
//   * Short-circuit vs state: a stateful condition (ema_threshold, rate_limit) updates its state
//     only when evaluation reaches it, i.e. it observes exactly the events that satisfied every
//     condition before it. This is what makes [agent_id_equals 42, ema_threshold score < 50] the
//     EMA of agent 42's scores rather than of every agent's; conditions placed after a stateful one
//     do not filter what it observes. A stateful condition that is itself false still records the
//     event (the EMA moved, the event happened in the window); the conditions after it do not run.
//   * A field the event does not have makes a condition false, never an error. For ema_threshold
//     the event is then not a sample: the state is left unchanged.
//   * When every condition holds (the trigger fires), each rate_limit with reset_on_trigger
//     starts over: its state becomes {"recent_timestamps": [], "count": 0}.
//   * Float comparison (ema_threshold, field_compare with a fractional value): two numbers are
//     equal when |a − b| ≤ 1e-9 · max(1, |a|, |b|); `<`/`>` exclude such near-equal pairs and
//     `<=`/`>=` include them, so the six operators stay consistent with each other.
//   * String ordering (`<`, `>`, ... on string fields) compares bytes; contains/starts_with are
//     byte-wise and case-sensitive. Values compared with hex fields (id, hashes, addresses) are
//     lowercased at compile time because those fields are stored lowercase.
//   * Rate windows come from event block times, never the wall clock, so replaying the same events
//     gives the same results. The window ending at block time t is (t − W, t]: an event exactly W
//     seconds older than t is outside. The state keeps at most 10,000 timestamps (the newest), so
//     a count saturates at 10,000; rate_limit values above 10,000 are refused at validation.
//   * An evaluation error (a stored condition that no longer compiles, a corrupt stored state)
//     yields Outcome::kError with no state updates; the caller counts it as a circuit-breaker
//     failure.
//
// Thread-safety: CompiledCondition is immutable after compilation and safe to share; the free
// functions are reentrant.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "pipeline/event.h"
#include "pipeline/field_error.h"

namespace auri::pipeline {

inline constexpr size_t kMaxRecentTimestamps = 10000;
inline constexpr size_t kMaxConditionValueChars = 10000;
inline constexpr int64_t kMaxEmaWindowSize = 1000000;
inline constexpr int64_t kMaxRateWindowSeconds = int64_t{3650} * 86400;  // ten years

enum class ConditionType : uint8_t {
  kEventTypeEquals,
  kAgentIdEquals,
  kScoreThreshold,
  kTagEquals,
  kFieldCompare,
  kEmaThreshold,  // stateful
  kRateLimit,     // stateful
};

// "event_type_equals" ... "rate_limit"; nullopt for anything else.
std::optional<ConditionType> ParseConditionType(std::string_view name);
std::string_view ConditionTypeName(ConditionType type);
bool IsStatefulConditionType(ConditionType type);

enum class CompareOp : uint8_t {
  kLess,
  kGreater,
  kLessEqual,
  kGreaterEqual,
  kEqual,     // "=" or "=="
  kNotEqual,  // "!=" or "<>"
  kContains,
  kStartsWith,
};

// Accepts the aliases "==" and "<>"; nullopt for anything else.
std::optional<CompareOp> ParseCompareOp(std::string_view text);
// The canonical spelling: "<", ">", "<=", ">=", "=", "!=", "contains", "starts_with".
std::string_view CompareOpName(CompareOp op);

// One row of trigger_conditions (position is the order of the vector it is in).
struct ConditionDefinition {
  std::string id;
  std::string condition_type;
  std::optional<std::string> field;
  std::optional<std::string> op;  // the `operator` column
  std::string value;              // text column: numbers arrive as their decimal text
  std::string config = "{}";      // jsonb object, as JSON text ("" is taken as {})

  bool operator==(const ConditionDefinition&) const = default;
};

// What a condition is validated against: the trigger it belongs to.
struct ConditionContext {
  bool trigger_is_stateful = false;
  // When not empty, event_type_equals must name an event type of this registry. Left empty when
  // compiling stored conditions, so a later change of the trigger's registry makes the condition
  // never match instead of failing.
  std::string_view trigger_registry;
};

// A validated condition, ready to evaluate. Built only by CompileCondition.
struct CompiledCondition {
  std::string id;
  ConditionType type = ConditionType::kEventTypeEquals;
  EventField field = EventField::kEventType;
  CompareOp op = CompareOp::kEqual;
  bool value_is_integer = false;  // numeric values: compare as int64 (exact) or as double
  int64_t int_value = 0;
  double real_value = 0;
  std::string text_value;      // string comparisons (lowercased for hex fields)
  double ema_alpha = 0;        // ema_threshold: 2 / (window_size + 1)
  int64_t window_seconds = 0;  // rate_limit
  bool reset_on_trigger = false;
};

// Validates `definition` for a trigger described by `context` and compiles it. On failure returns
// kInvalidArgument ("invalid condition: <field>: <message>; ...") and, when `errors` is not null,
// appends one FieldError per problem, with the field names of the API body: "condition_type",
// "field", "operator", "value", "config", "config.window_size", "config.time_window",
// "config.reset_on_trigger". Refused: unknown type; a stateful type on a non-stateful trigger;
// a missing, unknown or unsupported operator (contains/starts_with only for field_compare on
// string fields; the equality types accept none, "=" or "=="); a value of the wrong form
// (integers for agent_id_equals, score_threshold, rate_limit 0..10,000; a number for ema_threshold
// and numeric field_compare; a known event type for event_type_equals; a 1..255-character tag for
// tag_equals); a field the type does not use (tag_equals needs tag1|tag2; field_compare any event
// field; ema_threshold a numeric field, default score); config not an object, with unknown keys,
// or wrong parameters (window_size integer 1..1,000,000; time_window "<int><s|m|h|d>" of at most
// ten years; reset_on_trigger boolean). Types without parameters require an empty config.
Result<CompiledCondition> CompileCondition(const ConditionDefinition& definition,
                                           const ConditionContext& context,
                                           FieldErrors* errors = nullptr);

// CompileCondition without the result: what the API calls on POST/PUT of a condition.
Status ValidateCondition(const ConditionDefinition& definition, const ConditionContext& context,
                         FieldErrors* errors = nullptr);

// ---- State of stateful conditions (trigger_state.state) ---------------------------------------

// {"ema": <number>, "count": <int>, "last_updated": <block time of the last sample, unix s>}
struct EmaState {
  double ema = 0;
  int64_t count = 0;
  int64_t last_updated = 0;
  bool operator==(const EmaState&) const = default;
};

// {"recent_timestamps": [<block times, ascending, ≤ 10,000>], "count": <events in the window>}
struct RateState {
  std::vector<int64_t> recent_timestamps;
  int64_t count = 0;
  bool operator==(const RateState&) const = default;
};

std::string EmaStateToJson(const EmaState& state);
std::string RateStateToJson(const RateState& state);
// Parse stored state. "{}" (the column default) and "" give the fresh state. Missing keys take
// their fresh values; wrong types give kInvalidArgument naming the key. Rate timestamps are sorted
// and trimmed to the newest kMaxRecentTimestamps.
Result<EmaState> EmaStateFromJson(std::string_view json_text);
Result<RateState> RateStateFromJson(std::string_view json_text);

// ---- Evaluation -------------------------------------------------------------------------------

enum class Outcome : uint8_t { kMatched, kNotMatched, kError };
std::string_view OutcomeName(Outcome outcome);  // "matched", "not_matched", "error"

// Current state of each stateful condition of one trigger: condition id → trigger_state.state as
// JSON text. A condition without an entry has the fresh state.
using StoredStates = std::unordered_map<std::string, std::string>;

// A state to write back to trigger_state (upsert on condition_id).
struct StateUpdate {
  std::string condition_id;
  std::string state_json;
  bool operator==(const StateUpdate&) const = default;
};

struct Evaluation {
  Outcome outcome = Outcome::kNotMatched;
  Status error;  // set when outcome == kError
  // The new state of every stateful condition the evaluation reached (in condition order). Empty
  // on kError: an erroring evaluation changes no state.
  std::vector<StateUpdate> state_updates;
};

// Evaluates `conditions` (creation order) against `event` with the semantics at the top of this
// file. Never fails in any other way than Outcome::kError.
Evaluation EvaluateConditions(std::span<const CompiledCondition> conditions, const Event& event,
                              const StoredStates& states);

}  // namespace auri::pipeline
