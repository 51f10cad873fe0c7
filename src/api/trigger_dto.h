#pragma once
// Request bodies and JSON shapes of the trigger routes (spec 10-api.md, "Triggers", "Events"):
// reading and validating bodies into store rows, and rows back into JSON. Internal to src/api
// (includes nlohmann/json through json_body.h).
//
// Validation happens here, before anything touches the database, and reports every bad field at
// once with the body's own field names; nested items are prefixed ("conditions[2].value",
// "actions[0].config.url"). Condition rules come from pipeline/condition.h and action configs
// from delivery/action_config.h, so the API refuses exactly what the engine and the workers could
// not run.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/json_body.h"
#include "store/trigger_repository.h"

namespace auri::api {

inline constexpr size_t kMaxTriggerNameChars = 255;
inline constexpr size_t kMaxTriggerDescriptionChars = 1000;
inline constexpr size_t kMaxConditionConfigBytes = 4096;
inline constexpr size_t kMaxActionConfigBytes = 16384;
inline constexpr int64_t kMaxActionPriority = 1000000;

// {name, description?, chain_id?, registry, enabled?, is_stateful?} (POST and PUT: PUT replaces
// the whole definition, absent optional fields take their defaults).
std::optional<TriggerFields> ReadTriggerFields(FieldReader& reader);

// {condition_type, field?, operator?, value (string or number), config? (object)}: the shape
// only; the rules are checked by CheckCondition.
std::optional<ConditionFields> ReadConditionFields(FieldReader& reader);

// Appends the rule violations of `condition` for a trigger with `is_stateful` and `registry`
// (pipeline::ValidateCondition), field names prefixed with `prefix`.
void CheckCondition(const ConditionFields& condition, bool is_stateful, std::string_view registry,
                    const std::string& prefix, pipeline::FieldErrors* errors);

// {action_type, priority?, config}: shape and config rules (delivery::ValidateActionConfig).
// action_type is stored as sent ("rest" stays "rest"; it is an alias of webhook).
std::optional<ActionFields> ReadActionFields(FieldReader& reader);

nlohmann::json TriggerJson(const TriggerRow& trigger);
nlohmann::json TriggerWithChildrenJson(const TriggerWithChildren& trigger);
nlohmann::json ConditionJson(const ConditionRow& condition);
nlohmann::json ActionJson(const ActionRow& action);
// {trigger_id, state, failure_count, last_failure_time, opened_at, half_open_calls, config}
nlohmann::json BreakerJson(const TriggerRow& trigger);
nlohmann::json ActionResultJson(const ActionResultRow& result);
nlohmann::json JobJson(const JobRow& job);

// An RFC 3339 date-time ("2026-01-02T03:04:05Z", "2026-01-02T05:04:05.5+02:00") as unix
// microseconds, or nullopt. Strict: 'T' and 'Z' in either case, fraction up to 9 digits
// (truncated to microseconds), offset Z or ±HH:MM; a space in the offset's sign position is read
// as '+', because an unencoded '+' in a query string arrives decoded as a space. A leap second
// (:60) is read as :59.
std::optional<int64_t> ParseRfc3339Micros(std::string_view text);

}  // namespace auri::api
