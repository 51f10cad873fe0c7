#include "api/trigger_dto.h"

#include "delivery/action_config.h"
#include "pipeline/condition.h"

namespace auri::api {
namespace {

using nlohmann::json;

json OptionalJson(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

// A stored jsonb object as JSON (it was valid when written; the database re-serialized it).
json ConfigJson(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return doc.is_discarded() ? json::object() : doc;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

int Digits(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

std::optional<TriggerFields> ReadTriggerFields(FieldReader& reader) {
  TriggerFields out;
  std::optional<std::string> name = reader.String("name", true, 1, kMaxTriggerNameChars);
  out.description = reader.String("description", false, 0, kMaxTriggerDescriptionChars);
  out.chain_id = reader.Int("chain_id", false, 1, INT64_MAX);
  std::optional<std::string> registry =
      reader.Enum("registry", true, {"identity", "reputation", "validation"});
  out.enabled = reader.Bool("enabled", false).value_or(true);
  out.is_stateful = reader.Bool("is_stateful", false).value_or(false);
  if (!name || !registry) return std::nullopt;
  out.name = *name;
  out.registry = *registry;
  return out;
}

std::optional<ConditionFields> ReadConditionFields(FieldReader& reader) {
  ConditionFields out;
  bool ok = true;
  std::optional<std::string> type = reader.String("condition_type", true, 1, 64);
  out.field = reader.String("field", false, 0, 64);
  out.op = reader.String("operator", false, 0, 16);
  if (out.field && out.field->empty()) out.field.reset();
  if (out.op && out.op->empty()) out.op.reset();
  if (const json* value = reader.Raw("value", true)) {
    if (value->is_string()) {
      std::optional<std::string> text =
          reader.String("value", true, 0, pipeline::kMaxConditionValueChars);
      if (text) {
        out.value = *text;
      } else {
        ok = false;
      }
    } else if (value->is_number_integer()) {
      out.value = value->is_number_unsigned() ? std::to_string(value->get<uint64_t>())
                                              : std::to_string(value->get<int64_t>());
    } else if (value->is_number_float()) {
      out.value = value->dump();
    } else {
      reader.Fail("value", "must be a string or a number");
      ok = false;
    }
  } else {
    ok = false;
  }
  if (const json* config = reader.Raw("config", false)) {
    if (!config->is_object()) {
      reader.Fail("config", "must be a JSON object");
      ok = false;
    } else {
      out.config_json = config->dump();
      if (out.config_json.size() > kMaxConditionConfigBytes) {
        reader.Fail("config", "must be at most " + std::to_string(kMaxConditionConfigBytes) +
                                  " bytes as JSON");
        ok = false;
      }
    }
  }
  if (!type || !ok) return std::nullopt;
  out.condition_type = *type;
  return out;
}

void CheckCondition(const ConditionFields& condition, bool is_stateful, std::string_view registry,
                    const std::string& prefix, pipeline::FieldErrors* errors) {
  pipeline::ConditionDefinition definition;
  definition.condition_type = condition.condition_type;
  definition.field = condition.field;
  definition.op = condition.op;
  definition.value = condition.value;
  definition.config = condition.config_json;
  pipeline::FieldErrors found;
  (void)pipeline::ValidateCondition(
      definition,
      pipeline::ConditionContext{.trigger_is_stateful = is_stateful, .trigger_registry = registry},
      &found);
  for (pipeline::FieldError& e : found) errors->push_back({prefix + e.field, e.message});
}

std::optional<ActionFields> ReadActionFields(FieldReader& reader) {
  ActionFields out;
  std::optional<std::string> type =
      reader.Enum("action_type", true, {"telegram", "webhook", "rest"});
  out.priority = static_cast<int32_t>(
      reader.Int("priority", false, -kMaxActionPriority, kMaxActionPriority).value_or(0));
  const json* config = reader.Raw("config", true);
  bool config_ok = false;
  if (config && !config->is_object()) {
    reader.Fail("config", "must be a JSON object");
  } else if (config) {
    out.config_json = config->dump();
    if (out.config_json.size() > kMaxActionConfigBytes) {
      reader.Fail("config",
                  "must be at most " + std::to_string(kMaxActionConfigBytes) + " bytes as JSON");
    } else if (type) {
      pipeline::FieldErrors found;
      config_ok = delivery::ValidateActionConfig(*type, out.config_json, &found).ok();
      for (pipeline::FieldError& e : found) reader.Fail(e.field, e.message);
    }
  }
  if (!type || !config_ok) return std::nullopt;
  out.action_type = *type;
  return out;
}

json TriggerJson(const TriggerRow& t) {
  return json{{"id", t.id},
              {"organization_id", t.organization_id},
              {"user_id", OptionalJson(t.user_id)},
              {"name", t.fields.name},
              {"description", OptionalJson(t.fields.description)},
              {"chain_id", t.fields.chain_id ? json(*t.fields.chain_id) : json(nullptr)},
              {"registry", t.fields.registry},
              {"enabled", t.fields.enabled},
              {"is_stateful", t.fields.is_stateful},
              {"created_at", t.created_at},
              {"updated_at", t.updated_at}};
}

json TriggerWithChildrenJson(const TriggerWithChildren& t) {
  json out = TriggerJson(t.trigger);
  out["conditions"] = json::array();
  for (const ConditionRow& c : t.conditions) out["conditions"].push_back(ConditionJson(c));
  out["actions"] = json::array();
  for (const ActionRow& a : t.actions) out["actions"].push_back(ActionJson(a));
  return out;
}

json ConditionJson(const ConditionRow& c) {
  return json{{"id", c.id},
              {"trigger_id", c.trigger_id},
              {"condition_type", c.fields.condition_type},
              {"field", OptionalJson(c.fields.field)},
              {"operator", OptionalJson(c.fields.op)},
              {"value", c.fields.value},
              {"config", ConfigJson(c.fields.config_json)},
              {"created_at", c.created_at},
              {"updated_at", c.updated_at}};
}

json ActionJson(const ActionRow& a) {
  return json{{"id", a.id},
              {"trigger_id", a.trigger_id},
              {"action_type", a.fields.action_type},
              {"priority", a.fields.priority},
              {"config", ConfigJson(a.fields.config_json)},
              {"created_at", a.created_at},
              {"updated_at", a.updated_at}};
}

json BreakerJson(const TriggerRow& t) {
  const BreakerRow& b = t.breaker;
  return json{{"trigger_id", t.id},
              {"state", b.state},
              {"failure_count", b.failure_count},
              {"last_failure_time", OptionalJson(b.last_failure_time)},
              {"opened_at", OptionalJson(b.opened_at)},
              {"half_open_calls", b.half_open_calls},
              {"config",
               {{"failure_threshold", b.failure_threshold},
                {"recovery_timeout_seconds", b.recovery_timeout_seconds},
                {"half_open_max_calls", b.half_open_max_calls}}}};
}

json ActionResultJson(const ActionResultRow& r) {
  return json{{"id", r.id},
              {"job_id", r.job_id},
              {"event_id", r.event_id},
              {"action_type", r.action_type},
              {"status", r.status},
              {"attempts", r.attempts},
              {"duration_ms", r.duration_ms},
              {"status_code", r.status_code ? json(*r.status_code) : json(nullptr)},
              {"error", OptionalJson(r.error)},
              {"response_excerpt", OptionalJson(r.response_excerpt)},
              {"created_at", r.created_at}};
}

json JobJson(const JobRow& j) {
  return json{{"id", j.id},
              {"action_id", OptionalJson(j.action_id)},
              {"event_id", j.event_id},
              {"action_type", j.action_type},
              {"priority", j.priority},
              {"status", j.status},
              {"attempts", j.attempts},
              {"max_attempts", j.max_attempts},
              {"next_attempt_at", j.next_attempt_at},
              {"last_error", OptionalJson(j.last_error)},
              {"last_status_code", j.last_status_code ? json(*j.last_status_code) : json(nullptr)},
              {"created_at", j.created_at},
              {"updated_at", j.updated_at}};
}

std::optional<int64_t> ParseRfc3339Micros(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS at least.
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  std::string_view ys = s.substr(0, 4), mos = s.substr(5, 2), ds = s.substr(8, 2),
                   hs = s.substr(11, 2), mis = s.substr(14, 2), ss = s.substr(17, 2);
  if (!AllDigits(ys) || !AllDigits(mos) || !AllDigits(ds) || !AllDigits(hs) || !AllDigits(mis) ||
      !AllDigits(ss)) {
    return std::nullopt;
  }
  int year = Digits(ys), month = Digits(mos), day = Digits(ds), hour = Digits(hs),
      minute = Digits(mis), second = Digits(ss);
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  if (second == 60) second = 59;
  size_t i = 19;
  int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    size_t n = i - start;
    if (n == 0 || n > 9) return std::nullopt;
    std::string frac(s.substr(start, n));
    frac.resize(6, '0');
    micros = Digits(frac.substr(0, 6));
  }
  if (i >= s.size()) return std::nullopt;
  int64_t offset_seconds = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-' || s[i] == ' ') {
    if (s.size() - i != 6 || s[i + 3] != ':') return std::nullopt;
    std::string_view oh = s.substr(i + 1, 2), om = s.substr(i + 4, 2);
    if (!AllDigits(oh) || !AllDigits(om) || Digits(oh) > 23 || Digits(om) > 59) {
      return std::nullopt;
    }
    offset_seconds = (Digits(oh) * 3600 + Digits(om) * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return seconds * 1000000 + micros;
}

}  // namespace auri::api
