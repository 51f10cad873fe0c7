#include "pipeline/condition.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace auri::pipeline {
namespace {

using nlohmann::json;

ConditionDefinition Def(std::string type, std::optional<std::string> field,
                        std::optional<std::string> op, std::string value,
                        std::string config = "{}") {
  static int next_id = 0;
  return ConditionDefinition{"c" + std::to_string(++next_id),
                             std::move(type),
                             std::move(field),
                             std::move(op),
                             std::move(value),
                             std::move(config)};
}

const ConditionContext kStateless{false, {}};
const ConditionContext kStateful{true, {}};

// The errors of a definition that must not validate.
FieldErrors Refused(const ConditionDefinition& d, const ConditionContext& ctx = kStateful) {
  FieldErrors errors;
  Status s = ValidateCondition(d, ctx, &errors);
  EXPECT_FALSE(s.ok()) << d.condition_type << " " << d.value << " " << d.config;
  if (!s.ok()) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(errors.empty());
  return errors;
}

std::string MessageFor(const FieldErrors& errors, std::string_view field) {
  for (const FieldError& e : errors) {
    if (e.field == field) return e.message;
  }
  return "";
}

CompiledCondition Compiled(const ConditionDefinition& d, const ConditionContext& ctx = kStateful) {
  FieldErrors errors;
  Result<CompiledCondition> c = CompileCondition(d, ctx, &errors);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? c.value() : CompiledCondition{};
}

Event Feedback(int score, int64_t timestamp = 1000) {
  Event e;
  e.id = "reputation-1-0x00-0";
  e.chain_id = 1;
  e.registry = "reputation";
  e.event_type = "NewFeedback";
  e.agent_id = 42;
  e.timestamp = timestamp;
  e.score = score;
  return e;
}

TEST(ConditionValidationTest, AcceptsEachTypeInItsDocumentedForm) {
  EXPECT_TRUE(ValidateCondition(Def("event_type_equals", {}, {}, "NewFeedback"), kStateless).ok());
  EXPECT_TRUE(ValidateCondition(Def("agent_id_equals", {}, {}, "42"), kStateless).ok());
  EXPECT_TRUE(ValidateCondition(Def("score_threshold", {}, ">=", "80"), kStateless).ok());
  EXPECT_TRUE(ValidateCondition(Def("tag_equals", "tag1", {}, "quality"), kStateless).ok());
  EXPECT_TRUE(
      ValidateCondition(Def("field_compare", "owner", "starts_with", "0xAB"), kStateless).ok());
  EXPECT_TRUE(
      ValidateCondition(Def("ema_threshold", {}, "<", "50.5", R"({"window_size": 10})"), kStateful)
          .ok());
  EXPECT_TRUE(ValidateCondition(Def("rate_limit", {}, ">", "5",
                                    R"({"time_window": "1h", "reset_on_trigger": true})"),
                                kStateful)
                  .ok());
}

TEST(ConditionValidationTest, RefusesAnUnknownType) {
  EXPECT_NE(MessageFor(Refused(Def("score_above", {}, ">", "1")), "condition_type")
                .find("must be one of event_type_equals"),
            std::string::npos);
}

TEST(ConditionValidationTest, RefusesStatefulConditionsOnANonStatefulTrigger) {
  FieldErrors errors =
      Refused(Def("ema_threshold", {}, "<", "50", R"({"window_size": 3})"), kStateless);
  EXPECT_EQ(MessageFor(errors, "condition_type"),
            "ema_threshold is stateful and needs a trigger with is_stateful = true");
  errors = Refused(Def("rate_limit", {}, ">", "5", R"({"time_window": "1m"})"), kStateless);
  EXPECT_EQ(MessageFor(errors, "condition_type"),
            "rate_limit is stateful and needs a trigger with is_stateful = true");
}

TEST(ConditionValidationTest, RefusesBadOrMissingOperators) {
  EXPECT_EQ(MessageFor(Refused(Def("score_threshold", {}, "=>", "5")), "operator"),
            "must be one of <, >, <=, >=, =, ==, !=, <>");
  EXPECT_EQ(MessageFor(Refused(Def("score_threshold", {}, {}, "5")), "operator"),
            "is required for score_threshold");
  EXPECT_EQ(MessageFor(Refused(Def("score_threshold", {}, "contains", "5")), "operator"),
            "contains applies only to string fields");
  EXPECT_EQ(MessageFor(Refused(Def("agent_id_equals", {}, ">", "5")), "operator"),
            "agent_id_equals always compares with =; leave operator empty or set it to =");
  EXPECT_EQ(MessageFor(Refused(Def("field_compare", "score", "starts_with", "5")), "operator"),
            "starts_with applies only to string fields; score is numeric");
}

TEST(ConditionValidationTest, AcceptsOperatorAliases) {
  EXPECT_EQ(Compiled(Def("score_threshold", {}, "==", "5")).op, CompareOp::kEqual);
  EXPECT_EQ(Compiled(Def("score_threshold", {}, "<>", "5")).op, CompareOp::kNotEqual);
  EXPECT_EQ(Compiled(Def("agent_id_equals", {}, "==", "5")).op, CompareOp::kEqual);
}

TEST(ConditionValidationTest, RefusesValuesOfTheWrongForm) {
  EXPECT_EQ(MessageFor(Refused(Def("agent_id_equals", {}, {}, "-1")), "value"),
            "must be an integer between 0 and 9223372036854775807");
  EXPECT_EQ(MessageFor(Refused(Def("agent_id_equals", {}, {}, "4.2")), "value"),
            "must be an integer between 0 and 9223372036854775807");
  EXPECT_EQ(MessageFor(Refused(Def("score_threshold", {}, ">", "eighty")), "value"),
            "must be an integer");
  EXPECT_NE(MessageFor(Refused(Def("event_type_equals", {}, {}, "newfeedback")), "value"), "");
  EXPECT_EQ(MessageFor(Refused(Def("tag_equals", "tag1", {}, "")), "value"),
            "must be 1..255 characters");
  EXPECT_EQ(MessageFor(Refused(Def("field_compare", "score", ">", "high")), "value"),
            "must be a number");
  EXPECT_EQ(
      MessageFor(Refused(Def("ema_threshold", {}, "<", "nan", R"({"window_size": 2})")), "value"),
      "must be a number");
  EXPECT_EQ(
      MessageFor(Refused(Def("rate_limit", {}, ">", "10001", R"({"time_window": "1m"})")), "value"),
      "must be an integer between 0 and 10000");
}

TEST(ConditionValidationTest, EventTypeMustBelongToTheTriggersRegistryWhenKnown) {
  ConditionContext identity{false, "identity"};
  EXPECT_EQ(MessageFor(Refused(Def("event_type_equals", {}, {}, "NewFeedback"), identity), "value"),
            "must be an event type of registry identity (Registered, MetadataSet, URIUpdated, "
            "Transfer)");
  EXPECT_TRUE(ValidateCondition(Def("event_type_equals", {}, {}, "Transfer"), identity).ok());
}

TEST(ConditionValidationTest, RefusesFieldsTheTypeDoesNotUse) {
  EXPECT_EQ(MessageFor(Refused(Def("tag_equals", "tag3", {}, "x")), "field"),
            "must be tag1 or tag2");
  EXPECT_EQ(MessageFor(Refused(Def("field_compare", "colour", "=", "x")), "field"),
            "must name an event field (e.g. agent_id, score, owner, tag1)");
  EXPECT_EQ(MessageFor(Refused(Def("field_compare", {}, "=", "x")), "field"),
            "is required for field_compare");
  EXPECT_NE(MessageFor(Refused(Def("ema_threshold", "owner", "<", "1", R"({"window_size": 2})")),
                       "field"),
            "");
  EXPECT_NE(MessageFor(Refused(Def("score_threshold", "response", ">", "1")), "field"), "");
  EXPECT_NE(MessageFor(Refused(Def("rate_limit", "score", ">", "1", R"({"time_window": "1m"})")),
                       "field"),
            "");
  // Naming the field the type compares anyway is fine.
  EXPECT_TRUE(ValidateCondition(Def("score_threshold", "score", ">", "1"), kStateless).ok());
}

TEST(ConditionValidationTest, RefusesBadConfig) {
  EXPECT_EQ(MessageFor(Refused(Def("ema_threshold", {}, "<", "1", "[]")), "config"),
            "must be a JSON object");
  EXPECT_EQ(MessageFor(Refused(Def("ema_threshold", {}, "<", "1", "{")), "config"),
            "must be a JSON object");
  EXPECT_EQ(MessageFor(Refused(Def("ema_threshold", {}, "<", "1", "{}")), "config.window_size"),
            "is required (the EMA window N; alpha = 2/(N+1))");
  EXPECT_NE(MessageFor(Refused(Def("ema_threshold", {}, "<", "1", R"({"window_size": 0})")),
                       "config.window_size"),
            "");
  EXPECT_NE(MessageFor(Refused(Def("ema_threshold", {}, "<", "1", R"({"window_size": 2.5})")),
                       "config.window_size"),
            "");
  EXPECT_EQ(MessageFor(Refused(Def("ema_threshold", {}, "<", "1",
                                   R"({"window_size": 3, "windowsize": 3})")),
                       "config.windowsize"),
            "is not a parameter of ema_threshold (window_size)");
  for (const char* window : {"\"5\"", "\"m\"", "\"0m\"", "\"-5m\"", "\"5w\"", "\"3651d\"", "5"}) {
    std::string config = std::string(R"({"time_window": )") + window + "}";
    EXPECT_NE(MessageFor(Refused(Def("rate_limit", {}, ">", "1", config)), "config.time_window"),
              "")
        << config;
  }
  EXPECT_EQ(MessageFor(Refused(Def("rate_limit", {}, ">", "1",
                                   R"({"time_window": "1m", "reset_on_trigger": "yes"})")),
                       "config.reset_on_trigger"),
            "must be true or false");
  EXPECT_EQ(
      MessageFor(Refused(Def("score_threshold", {}, ">", "1", R"({"window_size": 3})")), "config"),
      "score_threshold takes no config; pass {}");
}

TEST(ConditionValidationTest, ReportsEveryProblemAndSummarizesThemInTheStatus) {
  FieldErrors errors;
  Status s = ValidateCondition(Def("rate_limit", {}, "=>", "many", R"({"time_window": "soon"})"),
                               kStateless, &errors);
  EXPECT_EQ(errors.size(), 4u) << SummarizeFieldErrors(errors);
  EXPECT_NE(s.message().find("invalid condition: condition_type: rate_limit is stateful"),
            std::string::npos)
      << s.message();
}

TEST(ConditionCompileTest, ParsesTimeWindowsInEveryUnit) {
  auto window = [](const char* w) {
    return Compiled(
               Def("rate_limit", {}, ">", "1", std::string(R"({"time_window": ")") + w + "\"}"))
        .window_seconds;
  };
  EXPECT_EQ(window("30s"), 30);
  EXPECT_EQ(window("5m"), 300);
  EXPECT_EQ(window("2h"), 7200);
  EXPECT_EQ(window("1d"), 86400);
  EXPECT_EQ(window("3650d"), 3650 * 86400);
}

TEST(ConditionCompileTest, EmaAlphaIsTwoOverWindowPlusOne) {
  EXPECT_DOUBLE_EQ(Compiled(Def("ema_threshold", {}, "<", "1", R"({"window_size": 1})")).ema_alpha,
                   1.0);
  EXPECT_DOUBLE_EQ(Compiled(Def("ema_threshold", {}, "<", "1", R"({"window_size": 9})")).ema_alpha,
                   0.2);
}

TEST(ConditionCompileTest, LowercasesValuesComparedWithHexFields) {
  EXPECT_EQ(Compiled(Def("field_compare", "client_address", "=", "0xABcd")).text_value, "0xabcd");
  EXPECT_EQ(Compiled(Def("field_compare", "metadata_value", "=", "ABcd")).text_value, "ABcd");
}

TEST(ConditionEvaluationTest, AnEmptyListMatches) {
  Evaluation e = EvaluateConditions({}, Feedback(50), {});
  EXPECT_EQ(e.outcome, Outcome::kMatched);
  EXPECT_TRUE(e.state_updates.empty());
}

TEST(ConditionEvaluationTest, AMissingFieldMakesAConditionFalseNotAnError) {
  std::vector<CompiledCondition> c = {Compiled(Def("score_threshold", {}, "<", "101"))};
  Event e = Feedback(50);
  e.score.reset();
  EXPECT_EQ(EvaluateConditions(c, e, {}).outcome, Outcome::kNotMatched);
  // != is false too: a missing field is not "different", it is absent.
  c = {Compiled(Def("field_compare", "response", "!=", "7"))};
  EXPECT_EQ(EvaluateConditions(c, e, {}).outcome, Outcome::kNotMatched);
}

TEST(ConditionEvaluationTest, StatefulConditionBehindAFailedConditionKeepsItsState) {
  std::vector<CompiledCondition> c = {
      Compiled(Def("agent_id_equals", {}, {}, "7")),
      Compiled(Def("rate_limit", {}, ">=", "1", R"({"time_window": "1h"})"))};
  Evaluation e = EvaluateConditions(c, Feedback(50), {});  // agent 42
  EXPECT_EQ(e.outcome, Outcome::kNotMatched);
  EXPECT_TRUE(e.state_updates.empty());
}

TEST(ConditionEvaluationTest, StatefulConditionBeforeAFailedConditionRecordsTheEvent) {
  std::vector<CompiledCondition> c = {
      Compiled(Def("rate_limit", {}, ">=", "1", R"({"time_window": "1h"})")),
      Compiled(Def("agent_id_equals", {}, {}, "7"))};
  Evaluation e = EvaluateConditions(c, Feedback(50, 1000), {});
  EXPECT_EQ(e.outcome, Outcome::kNotMatched);
  ASSERT_EQ(e.state_updates.size(), 1u);
  EXPECT_EQ(e.state_updates[0].condition_id, c[0].id);
  EXPECT_EQ(json::parse(e.state_updates[0].state_json),
            json::parse(R"({"recent_timestamps": [1000], "count": 1})"));
}

TEST(ConditionEvaluationTest, CorruptStoredStateIsAnErrorWithoutStateUpdates) {
  std::vector<CompiledCondition> c = {
      Compiled(Def("rate_limit", {}, ">=", "1", R"({"time_window": "1h"})")),
      Compiled(Def("ema_threshold", {}, ">", "1", R"({"window_size": 3})"))};
  StoredStates states = {{c[1].id, R"({"ema": "high", "count": 2})"}};
  Evaluation e = EvaluateConditions(c, Feedback(50), states);
  EXPECT_EQ(e.outcome, Outcome::kError);
  EXPECT_TRUE(e.state_updates.empty());
  EXPECT_EQ(e.error.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(e.error.message().find("condition " + c[1].id + " (ema_threshold)"), std::string::npos)
      << e.error.message();
  EXPECT_NE(e.error.message().find("state.ema must be a number"), std::string::npos);
}

TEST(ConditionEvaluationTest, EmaIgnoresEventsWithoutTheField) {
  std::vector<CompiledCondition> c = {
      Compiled(Def("ema_threshold", {}, ">", "0", R"({"window_size": 3})"))};
  Event e = Feedback(50);
  e.score.reset();
  Evaluation r = EvaluateConditions(c, e, {{c[0].id, EmaStateToJson({60, 4, 900})}});
  EXPECT_EQ(r.outcome, Outcome::kNotMatched);
  EXPECT_TRUE(r.state_updates.empty());
}

TEST(ConditionStateTest, EmaStateRoundTripsThroughItsJsonShape) {
  EmaState s{65.2, 4, 1700000000};
  json j = json::parse(EmaStateToJson(s));
  EXPECT_EQ(j, json::parse(R"({"ema": 65.2, "count": 4, "last_updated": 1700000000})"));
  Result<EmaState> back = EmaStateFromJson(j.dump());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

TEST(ConditionStateTest, RateStateRoundTripsThroughItsJsonShape) {
  RateState s{{10, 20, 30}, 3};
  EXPECT_EQ(json::parse(RateStateToJson(s)),
            json::parse(R"({"recent_timestamps": [10, 20, 30], "count": 3})"));
  Result<RateState> back = RateStateFromJson(RateStateToJson(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

TEST(ConditionStateTest, EmptyOrDefaultStateIsFresh) {
  EXPECT_EQ(*EmaStateFromJson(""), EmaState{});
  EXPECT_EQ(*EmaStateFromJson("{}"), EmaState{});
  EXPECT_EQ(*RateStateFromJson("{}"), RateState{});
}

TEST(ConditionStateTest, RateStateFromJsonSortsAndKeepsTheNewest10000Timestamps) {
  json j = {{"recent_timestamps", json::array()}, {"count", 0}};
  for (int i = 10'005; i > 0; --i) j["recent_timestamps"].push_back(i);
  Result<RateState> s = RateStateFromJson(j.dump());
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->recent_timestamps.size(), 10000u);
  EXPECT_EQ(s->recent_timestamps.front(), 6);
  EXPECT_EQ(s->recent_timestamps.back(), 10'005);
}

TEST(ConditionStateTest, RateCounterSaturatesAt10000Timestamps) {
  std::vector<CompiledCondition> c = {
      Compiled(Def("rate_limit", {}, ">=", "10000", R"({"time_window": "1d"})"))};
  RateState full;
  for (int i = 0; i < 10000; ++i) full.recent_timestamps.push_back(1000 + i % 5);
  std::sort(full.recent_timestamps.begin(), full.recent_timestamps.end());
  Evaluation e = EvaluateConditions(c, Feedback(1, 2000), {{c[0].id, RateStateToJson(full)}});
  EXPECT_EQ(e.outcome, Outcome::kMatched);
  Result<RateState> after = RateStateFromJson(e.state_updates.at(0).state_json);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->recent_timestamps.size(), 10000u);
  EXPECT_EQ(after->count, 10000);
  EXPECT_EQ(after->recent_timestamps.back(), 2000);
}

TEST(ConditionStateTest, RejectsStateOfTheWrongShape) {
  EXPECT_FALSE(RateStateFromJson(R"({"recent_timestamps": "1,2"})").ok());
  EXPECT_FALSE(RateStateFromJson(R"({"recent_timestamps": [1.5]})").ok());
  EXPECT_FALSE(EmaStateFromJson(R"({"count": 3})").ok());  // count without an average
  EXPECT_FALSE(EmaStateFromJson("[]").ok());
  EXPECT_FALSE(EmaStateFromJson("not json").ok());
}

TEST(ConditionNamesTest, ParsesAndNamesTypesAndOperators) {
  EXPECT_EQ(ParseConditionType("rate_limit"), ConditionType::kRateLimit);
  EXPECT_FALSE(ParseConditionType("RATE_LIMIT").has_value());
  EXPECT_EQ(ConditionTypeName(ConditionType::kTagEquals), "tag_equals");
  EXPECT_TRUE(IsStatefulConditionType(ConditionType::kEmaThreshold));
  EXPECT_FALSE(IsStatefulConditionType(ConditionType::kFieldCompare));
  EXPECT_EQ(CompareOpName(*ParseCompareOp("<>")), "!=");
  EXPECT_FALSE(ParseCompareOp("=<").has_value());
  EXPECT_EQ(OutcomeName(Outcome::kNotMatched), "not_matched");
}

}  // namespace
}  // namespace auri::pipeline
