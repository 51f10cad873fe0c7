#include "pipeline/condition.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "pipeline/text.h"

namespace auri::pipeline {
namespace {

using nlohmann::json;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

struct TypeInfo {
  std::string_view name;
  ConditionType type;
  bool stateful;
};

constexpr std::array<TypeInfo, 7> kTypes = {{
    {"event_type_equals", ConditionType::kEventTypeEquals, false},
    {"agent_id_equals", ConditionType::kAgentIdEquals, false},
    {"score_threshold", ConditionType::kScoreThreshold, false},
    {"tag_equals", ConditionType::kTagEquals, false},
    {"field_compare", ConditionType::kFieldCompare, false},
    {"ema_threshold", ConditionType::kEmaThreshold, true},
    {"rate_limit", ConditionType::kRateLimit, true},
}};

bool IsOrdering(CompareOp op) { return op != CompareOp::kContains && op != CompareOp::kStartsWith; }

// Parses "<int><s|m|h|d>" into seconds; nullopt when malformed, zero or above the maximum.
std::optional<int64_t> ParseTimeWindow(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  int64_t unit;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  std::string_view digits = text.substr(0, text.size() - 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;  // also refuses the sign ParseInt64 would accept
  }
  std::optional<int64_t> n = ParseInt64(digits);
  if (!n || *n < 1 || *n > kMaxRateWindowSeconds / unit) return std::nullopt;
  return *n * unit;
}

// Compiles one definition, collecting every problem before giving up.
class ConditionCompiler {
 public:
  ConditionCompiler(const ConditionDefinition& def, const ConditionContext& ctx)
      : def_(def), ctx_(ctx) {}

  Result<CompiledCondition> Compile(FieldErrors* errors) {
    out_.id = def_.id;
    std::optional<ConditionType> type = ParseConditionType(def_.condition_type);
    if (!type) {
      Fail("condition_type",
           "must be one of event_type_equals, agent_id_equals, score_threshold, tag_equals, "
           "field_compare, ema_threshold, rate_limit");
    } else {
      out_.type = *type;
      if (IsStatefulConditionType(*type) && !ctx_.trigger_is_stateful) {
        Fail("condition_type", std::string(def_.condition_type) +
                                   " is stateful and needs a trigger with is_stateful = true");
      }
      if (ParseConfig()) CompileType(*type);
    }
    if (errors_.empty()) return std::move(out_);
    if (errors != nullptr) errors->insert(errors->end(), errors_.begin(), errors_.end());
    return InvalidArgument("invalid condition: " + SummarizeFieldErrors(errors_),
                           "see the condition table of spec 20-pipeline.md");
  }

 private:
  void Fail(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
  }

  std::string_view FieldText() const { return def_.field ? *def_.field : std::string_view(); }
  std::string_view OpText() const { return def_.op ? *def_.op : std::string_view(); }

  bool ParseConfig() {
    std::string_view text = def_.config;
    if (text.empty()) {
      config_ = json::object();
      return true;
    }
    try {
      config_ = json::parse(text.begin(), text.end());
    } catch (const json::parse_error&) {
      Fail("config", "must be a JSON object");
      return false;
    }
    if (!config_.is_object()) {
      Fail("config", "must be a JSON object");
      return false;
    }
    return true;
  }

  // Types without parameters take an empty config, so a misplaced parameter is noticed.
  void RequireEmptyConfig() {
    if (!config_.empty()) {
      Fail("config", std::string(def_.condition_type) + " takes no config; pass {}");
    }
  }

  void RefuseUnknownConfigKeys(std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : config_.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        Fail("config." + key, "is not a parameter of " + def_.condition_type + " (" + list + ")");
      }
    }
  }

  // The equality types compare one fixed field; naming it is allowed, naming another is not.
  void RequireNaturalField(std::string_view natural, EventField field) {
    out_.field = field;
    if (!FieldText().empty() && FieldText() != natural) {
      Fail("field", std::string(def_.condition_type) + " compares " + std::string(natural) +
                        "; leave field empty or set it to " + std::string(natural));
    }
  }

  void RequireEqualityOp() {
    out_.op = CompareOp::kEqual;
    if (!OpText().empty() && OpText() != "=" && OpText() != "==") {
      Fail("operator", std::string(def_.condition_type) +
                           " always compares with =; leave operator empty or set it to =");
    }
  }

  // A required operator; `allow_string_ops` admits contains/starts_with.
  void RequireOp(bool allow_string_ops) {
    if (OpText().empty()) {
      Fail("operator", "is required for " + def_.condition_type);
      return;
    }
    std::optional<CompareOp> op = ParseCompareOp(OpText());
    if (!op) {
      Fail("operator", "must be one of <, >, <=, >=, =, ==, !=, <>" +
                           std::string(allow_string_ops ? ", contains, starts_with" : ""));
      return;
    }
    if (!allow_string_ops && !IsOrdering(*op)) {
      Fail("operator", std::string(CompareOpName(*op)) + " applies only to string fields");
      return;
    }
    out_.op = *op;
  }

  void RequireIntegerValue(int64_t min, int64_t max) {
    std::optional<int64_t> v = ParseInt64(def_.value);
    if (!v || *v < min || *v > max) {
      Fail("value", min == std::numeric_limits<int64_t>::min()
                        ? "must be an integer"
                        : "must be an integer between " + std::to_string(min) + " and " +
                              std::to_string(max));
      return;
    }
    out_.value_is_integer = true;
    out_.int_value = *v;
    out_.real_value = static_cast<double>(*v);
  }

  // An integer when it is one (exact int64 comparison), otherwise a finite double.
  void RequireNumberValue() {
    if (std::optional<int64_t> i = ParseInt64(def_.value)) {
      out_.value_is_integer = true;
      out_.int_value = *i;
      out_.real_value = static_cast<double>(*i);
    } else if (std::optional<double> d = ParseFiniteDouble(def_.value)) {
      out_.real_value = *d;
    } else {
      Fail("value", "must be a number");
    }
  }

  void RequireTextValue(size_t min_chars, size_t max_chars) {
    std::optional<size_t> chars = Utf8Length(def_.value);
    if (!chars) {
      Fail("value", "must be valid UTF-8");
    } else if (def_.value.find('\0') != std::string::npos) {
      Fail("value", "must not contain NUL characters");
    } else if (*chars < min_chars || *chars > max_chars) {
      Fail("value", "must be " + std::to_string(min_chars) + ".." + std::to_string(max_chars) +
                        " characters");
    }
    out_.text_value = def_.value;
  }

  void CompileType(ConditionType type) {
    switch (type) {
      case ConditionType::kEventTypeEquals: {
        RequireNaturalField("event_type", EventField::kEventType);
        RequireEqualityOp();
        RequireEmptyConfig();
        out_.text_value = def_.value;
        bool of_registry = !ctx_.trigger_registry.empty() && IsKnownRegistry(ctx_.trigger_registry);
        if (of_registry && !IsEventTypeOf(ctx_.trigger_registry, def_.value)) {
          Fail("value", "must be an event type of registry " + std::string(ctx_.trigger_registry) +
                            " (" + EventTypesOf(ctx_.trigger_registry) + ")");
        } else if (!IsKnownEventType(def_.value)) {
          Fail("value", "must be an ERC-8004 event type (" + EventTypesOf("identity") + ", " +
                            EventTypesOf("reputation") + ", " + EventTypesOf("validation") + ")");
        }
        break;
      }
      case ConditionType::kAgentIdEquals:
        RequireNaturalField("agent_id", EventField::kAgentId);
        RequireEqualityOp();
        RequireEmptyConfig();
        RequireIntegerValue(0, kInt64Max);
        break;
      case ConditionType::kScoreThreshold:
        RequireNaturalField("score", EventField::kScore);
        RequireOp(false);
        RequireEmptyConfig();
        RequireIntegerValue(std::numeric_limits<int64_t>::min(), kInt64Max);
        break;
      case ConditionType::kTagEquals:
        if (FieldText() == "tag1") {
          out_.field = EventField::kTag1;
        } else if (FieldText() == "tag2") {
          out_.field = EventField::kTag2;
        } else {
          Fail("field", "must be tag1 or tag2");
        }
        RequireEqualityOp();
        RequireEmptyConfig();
        // Empty tags are stored as null, so an empty value could never match.
        RequireTextValue(1, kMaxTagChars);
        break;
      case ConditionType::kFieldCompare:
        CompileFieldCompare();
        break;
      case ConditionType::kEmaThreshold:
        CompileEma();
        break;
      case ConditionType::kRateLimit:
        CompileRate();
        break;
    }
  }

  void CompileFieldCompare() {
    std::optional<EventField> field = EventFieldByName(FieldText());
    if (!field) {
      Fail("field", FieldText().empty()
                        ? "is required for field_compare"
                        : "must name an event field (e.g. agent_id, score, owner, tag1)");
    }
    RequireOp(true);
    RequireEmptyConfig();
    if (!field) return;
    out_.field = *field;
    if (EventFieldKind(*field) == FieldKind::kInteger) {
      if (!IsOrdering(out_.op)) {
        Fail("operator", std::string(CompareOpName(out_.op)) + " applies only to string fields; " +
                             std::string(FieldText()) + " is numeric");
      }
      RequireNumberValue();
    } else {
      RequireTextValue(0, kMaxConditionValueChars);
      if (IsLowercaseHexField(*field)) out_.text_value = AsciiLower(out_.text_value);
    }
  }

  void CompileEma() {
    std::string_view name = FieldText().empty() ? std::string_view("score") : FieldText();
    std::optional<EventField> field = EventFieldByName(name);
    if (!field || EventFieldKind(*field) != FieldKind::kInteger) {
      Fail("field", "must be a numeric event field (e.g. score, response); default score");
    } else {
      out_.field = *field;
    }
    RequireOp(false);
    if (std::optional<double> d = ParseFiniteDouble(def_.value)) {
      out_.real_value = *d;
    } else {
      Fail("value", "must be a number");
    }
    RefuseUnknownConfigKeys({"window_size"});
    auto it = config_.find("window_size");
    if (it == config_.end()) {
      Fail("config.window_size", "is required (the EMA window N; alpha = 2/(N+1))");
    } else if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
               (it->is_number_unsigned() && it->get<uint64_t>() > kMaxEmaWindowSize) ||
               it->get<int64_t>() > kMaxEmaWindowSize) {
      Fail("config.window_size",
           "must be an integer between 1 and " + std::to_string(kMaxEmaWindowSize));
    } else {
      out_.ema_alpha = 2.0 / (static_cast<double>(it->get<int64_t>()) + 1.0);
    }
  }

  void CompileRate() {
    if (!FieldText().empty()) Fail("field", "is not used by rate_limit; leave it empty");
    RequireOp(false);
    // The state keeps at most kMaxRecentTimestamps timestamps, so larger counts cannot be seen.
    RequireIntegerValue(0, static_cast<int64_t>(kMaxRecentTimestamps));
    RefuseUnknownConfigKeys({"time_window", "reset_on_trigger"});
    auto it = config_.find("time_window");
    std::optional<int64_t> seconds;
    if (it == config_.end()) {
      Fail("config.time_window", "is required, e.g. \"5m\"");
    } else if (it->is_string()) {
      seconds = ParseTimeWindow(it->get_ref<const std::string&>());
    }
    if (it != config_.end() && !seconds) {
      Fail("config.time_window",
           "must be a positive whole number followed by s, m, h or d (e.g. \"5m\"), at most "
           "3650d");
    }
    if (seconds) out_.window_seconds = *seconds;
    if (auto r = config_.find("reset_on_trigger"); r != config_.end()) {
      if (!r->is_boolean()) {
        Fail("config.reset_on_trigger", "must be true or false");
      } else {
        out_.reset_on_trigger = r->get<bool>();
      }
    }
  }

  const ConditionDefinition& def_;
  const ConditionContext& ctx_;
  FieldErrors errors_;
  CompiledCondition out_;
  json config_;
};

bool NearlyEqual(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)});
}

// The six ordering operators, shared by integers and strings (exact comparison for both).
template <typename T>
bool CompareOrdered(const T& a, CompareOp op, const T& b) {
  switch (op) {
    case CompareOp::kLess:
      return a < b;
    case CompareOp::kGreater:
      return a > b;
    case CompareOp::kLessEqual:
      return a <= b;
    case CompareOp::kGreaterEqual:
      return a >= b;
    case CompareOp::kEqual:
      return a == b;
    case CompareOp::kNotEqual:
      return a != b;
    default:
      return false;  // string-only operators never compile for numbers
  }
}

bool CompareInt(int64_t a, CompareOp op, int64_t b) { return CompareOrdered(a, op, b); }

bool CompareReal(double a, CompareOp op, double b) {
  bool near = NearlyEqual(a, b);
  switch (op) {
    case CompareOp::kLess:
      return a < b && !near;
    case CompareOp::kGreater:
      return a > b && !near;
    case CompareOp::kLessEqual:
      return a < b || near;
    case CompareOp::kGreaterEqual:
      return a > b || near;
    case CompareOp::kEqual:
      return near;
    case CompareOp::kNotEqual:
      return !near;
    default:
      return false;
  }
}

bool CompareText(std::string_view a, CompareOp op, std::string_view b) {
  switch (op) {
    case CompareOp::kContains:
      return a.find(b) != std::string_view::npos;
    case CompareOp::kStartsWith:
      return a.substr(0, b.size()) == b;
    default:
      return CompareOrdered(a, op, b);
  }
}

// Compares a numeric event value with the condition's value: exactly when both are integers.
bool CompareNumber(int64_t event_value, const CompiledCondition& c) {
  if (c.value_is_integer) return CompareInt(event_value, c.op, c.int_value);
  return CompareReal(static_cast<double>(event_value), c.op, c.real_value);
}

bool EvaluateStateless(const CompiledCondition& c, const Event& e) {
  switch (c.type) {
    case ConditionType::kEventTypeEquals:
      return e.event_type == c.text_value;
    case ConditionType::kAgentIdEquals:
      return e.agent_id == c.int_value;
    case ConditionType::kScoreThreshold:
      return e.score && CompareInt(*e.score, c.op, c.int_value);
    case ConditionType::kTagEquals: {
      FieldValue v = GetEventField(e, c.field);
      return v.kind == FieldValue::Kind::kString && v.text == c.text_value;
    }
    case ConditionType::kFieldCompare: {
      FieldValue v = GetEventField(e, c.field);
      switch (v.kind) {
        case FieldValue::Kind::kMissing:
          return false;
        case FieldValue::Kind::kInteger:
          return CompareNumber(v.integer, c);
        case FieldValue::Kind::kString:
          return CompareText(v.text, c.op, c.text_value);
      }
      return false;
    }
    default:
      return false;  // stateful types are evaluated by EvaluateConditions
  }
}

// Parses state JSON text into an object; "" and "{}" are the fresh state.
Result<json> ParseStateObject(std::string_view text) {
  if (text.empty()) return json::object();
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error&) {
    return InvalidArgument("state is not valid JSON");
  }
  if (!j.is_object()) return InvalidArgument("state must be a JSON object");
  return j;
}

Result<int64_t> StateInteger(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return int64_t{0};
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(kInt64Max)) {
    return InvalidArgument(std::string("state.") + key + " is out of range");
  }
  if (!it->is_number_integer())
    return InvalidArgument(std::string("state.") + key + " must be an integer");
  return it->get<int64_t>();
}

template <typename T>
void AppendNumber(std::string* out, T value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, ec == std::errc() ? end : buf);
}

Status CorruptState(const CompiledCondition& c, const Status& s) {
  return FailedPrecondition(
      "condition " + c.id + " (" + std::string(ConditionTypeName(c.type)) +
          "): stored state cannot be read: " + s.message(),
      "the trigger_state row of this condition is corrupt; delete it to start the state over");
}

}  // namespace

std::optional<ConditionType> ParseConditionType(std::string_view name) {
  for (const TypeInfo& t : kTypes) {
    if (t.name == name) return t.type;
  }
  return std::nullopt;
}

std::string_view ConditionTypeName(ConditionType type) {
  return kTypes[static_cast<size_t>(type)].name;
}

bool IsStatefulConditionType(ConditionType type) {
  return kTypes[static_cast<size_t>(type)].stateful;
}

std::optional<CompareOp> ParseCompareOp(std::string_view text) {
  if (text == "<") return CompareOp::kLess;
  if (text == ">") return CompareOp::kGreater;
  if (text == "<=") return CompareOp::kLessEqual;
  if (text == ">=") return CompareOp::kGreaterEqual;
  if (text == "=" || text == "==") return CompareOp::kEqual;
  if (text == "!=" || text == "<>") return CompareOp::kNotEqual;
  if (text == "contains") return CompareOp::kContains;
  if (text == "starts_with") return CompareOp::kStartsWith;
  return std::nullopt;
}

std::string_view CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kLess:
      return "<";
    case CompareOp::kGreater:
      return ">";
    case CompareOp::kLessEqual:
      return "<=";
    case CompareOp::kGreaterEqual:
      return ">=";
    case CompareOp::kEqual:
      return "=";
    case CompareOp::kNotEqual:
      return "!=";
    case CompareOp::kContains:
      return "contains";
    case CompareOp::kStartsWith:
      return "starts_with";
  }
  return "?";
}

Result<CompiledCondition> CompileCondition(const ConditionDefinition& definition,
                                           const ConditionContext& context, FieldErrors* errors) {
  try {
    return ConditionCompiler(definition, context).Compile(errors);
  } catch (const json::exception& e) {
    return Internal(std::string("compiling condition ") + definition.id + ": " + e.what());
  }
}

Status ValidateCondition(const ConditionDefinition& definition, const ConditionContext& context,
                         FieldErrors* errors) {
  return CompileCondition(definition, context, errors).status();
}

// States are written for every stateful candidate of every event, so they are formatted by hand
// (std::to_chars: shortest round-trip form) rather than through a JSON DOM; the parsers below
// still use nlohmann, which accepts this output and whatever jsonb hands back.
std::string EmaStateToJson(const EmaState& state) {
  std::string out = "{\"count\":";
  AppendNumber(&out, state.count);
  out += ",\"ema\":";
  AppendNumber(&out, std::isfinite(state.ema) ? state.ema : 0.0);
  out += ",\"last_updated\":";
  AppendNumber(&out, state.last_updated);
  out += '}';
  return out;
}

std::string RateStateToJson(const RateState& state) {
  std::string out = "{\"count\":";
  AppendNumber(&out, state.count);
  out += ",\"recent_timestamps\":[";
  out.reserve(out.size() + state.recent_timestamps.size() * 11 + 2);
  for (size_t i = 0; i < state.recent_timestamps.size(); ++i) {
    if (i > 0) out += ',';
    AppendNumber(&out, state.recent_timestamps[i]);
  }
  out += "]}";
  return out;
}

Result<EmaState> EmaStateFromJson(std::string_view json_text) {
  try {
    ASSIGN_OR_RETURN(json j, ParseStateObject(json_text));
    EmaState s;
    ASSIGN_OR_RETURN(s.count, StateInteger(j, "count"));
    ASSIGN_OR_RETURN(s.last_updated, StateInteger(j, "last_updated"));
    if (s.count < 0) return InvalidArgument("state.count must not be negative");
    if (auto it = j.find("ema"); it != j.end() && !it->is_null()) {
      if (!it->is_number()) return InvalidArgument("state.ema must be a number");
      s.ema = it->get<double>();
      if (!std::isfinite(s.ema)) return InvalidArgument("state.ema must be finite");
    } else if (s.count > 0) {
      return InvalidArgument("state.ema is missing although state.count > 0");
    }
    return s;
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("state: ") + e.what());
  }
}

Result<RateState> RateStateFromJson(std::string_view json_text) {
  try {
    ASSIGN_OR_RETURN(json j, ParseStateObject(json_text));
    RateState s;
    ASSIGN_OR_RETURN(s.count, StateInteger(j, "count"));
    if (auto it = j.find("recent_timestamps"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) return InvalidArgument("state.recent_timestamps must be an array");
      s.recent_timestamps.reserve(it->size());
      for (const json& t : *it) {
        if (!t.is_number_integer() ||
            (t.is_number_unsigned() && t.get<uint64_t>() > static_cast<uint64_t>(kInt64Max))) {
          return InvalidArgument("state.recent_timestamps must hold integers");
        }
        s.recent_timestamps.push_back(t.get<int64_t>());
      }
      std::sort(s.recent_timestamps.begin(), s.recent_timestamps.end());
      if (s.recent_timestamps.size() > kMaxRecentTimestamps) {
        s.recent_timestamps.erase(
            s.recent_timestamps.begin(),
            s.recent_timestamps.end() - static_cast<ptrdiff_t>(kMaxRecentTimestamps));
      }
    }
    return s;
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("state: ") + e.what());
  }
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kMatched:
      return "matched";
    case Outcome::kNotMatched:
      return "not_matched";
    case Outcome::kError:
      return "error";
  }
  return "?";
}

Evaluation EvaluateConditions(std::span<const CompiledCondition> conditions, const Event& event,
                              const StoredStates& states) {
  Evaluation result;
  auto fail = [&result](Status error) {
    result.outcome = Outcome::kError;
    result.error = std::move(error);
    result.state_updates.clear();
    return std::move(result);
  };
  auto stored = [&states](const CompiledCondition& c) -> std::string_view {
    auto it = states.find(c.id);
    return it == states.end() ? std::string_view() : std::string_view(it->second);
  };

  for (const CompiledCondition& c : conditions) {
    bool holds = false;
    if (c.type == ConditionType::kEmaThreshold) {
      FieldValue v = GetEventField(event, c.field);
      if (v.kind == FieldValue::Kind::kInteger) {
        Result<EmaState> state = EmaStateFromJson(stored(c));
        if (!state.ok()) return fail(CorruptState(c, state.status()));
        auto x = static_cast<double>(v.integer);
        // The first sample initialises the average; later ones move it by alpha.
        state->ema = state->count == 0 ? x : c.ema_alpha * x + (1.0 - c.ema_alpha) * state->ema;
        state->count += 1;
        state->last_updated = event.timestamp;
        holds = CompareReal(state->ema, c.op, c.real_value);
        result.state_updates.push_back({c.id, EmaStateToJson(*state)});
      }
    } else if (c.type == ConditionType::kRateLimit) {
      Result<RateState> state = RateStateFromJson(stored(c));
      if (!state.ok()) return fail(CorruptState(c, state.status()));
      std::vector<int64_t>& ts = state->recent_timestamps;
      const int64_t t = event.timestamp;
      const int64_t window_start = t - c.window_seconds;  // exclusive
      // Timestamps at or before window_start are outside this window and, since later events
      // have later block times, outside theirs too.
      ts.erase(ts.begin(), std::upper_bound(ts.begin(), ts.end(), window_start));
      ts.insert(std::upper_bound(ts.begin(), ts.end(), t), t);
      if (ts.size() > kMaxRecentTimestamps) {
        ts.erase(ts.begin(), ts.end() - static_cast<ptrdiff_t>(kMaxRecentTimestamps));
      }
      // Timestamps after t (events ingested earlier with later block times) are not in the
      // window ending at t.
      state->count = std::upper_bound(ts.begin(), ts.end(), t) - ts.begin();
      holds = CompareInt(state->count, c.op, c.int_value);
      result.state_updates.push_back({c.id, RateStateToJson(*state)});
    } else {
      holds = EvaluateStateless(c, event);
    }
    if (!holds) {
      result.outcome = Outcome::kNotMatched;
      return result;
    }
  }

  result.outcome = Outcome::kMatched;
  for (const CompiledCondition& c : conditions) {
    if (c.type != ConditionType::kRateLimit || !c.reset_on_trigger) continue;
    for (StateUpdate& update : result.state_updates) {
      if (update.condition_id == c.id) update.state_json = RateStateToJson(RateState{});
    }
  }
  return result;
}

}  // namespace auri::pipeline
