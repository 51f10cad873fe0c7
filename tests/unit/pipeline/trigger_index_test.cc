#include "pipeline/trigger_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/probe_chain.h"

namespace auri::pipeline {
namespace {

constexpr int64_t kCreatedMs = 1'700'000'000'000;
constexpr int64_t kEventTime = 1'700'000'100;  // seconds, after kCreatedMs

TriggerDefinition Trigger(std::string id, std::string registry = "reputation",
                          std::optional<int64_t> chain = std::nullopt) {
  TriggerDefinition t;
  t.id = std::move(id);
  t.organization_id = "org";
  t.name = t.id;
  t.registry = std::move(registry);
  t.chain_id = chain;
  t.created_at_ms = kCreatedMs;
  return t;
}

ConditionDefinition Cond(std::string id, std::string type, std::string value,
                         std::optional<std::string> op = {}, std::string config = "{}") {
  return ConditionDefinition{std::move(id), std::move(type),  {},
                             std::move(op), std::move(value), std::move(config)};
}

Event MakeEvent(std::string registry = "reputation", std::string type = "NewFeedback",
                int64_t chain = 1, int64_t agent = 42, int64_t timestamp = kEventTime) {
  Event e;
  e.chain_id = chain;
  e.registry = std::move(registry);
  e.event_type = std::move(type);
  e.agent_id = agent;
  e.timestamp = timestamp;
  e.score = 50;
  e.id = e.registry + "-" + std::to_string(chain) + "-0x00-0";
  return e;
}

std::vector<std::string> CandidateIds(const TriggerIndex& index, const Event& e) {
  std::vector<std::string> ids;
  for (const CompiledTrigger* t : index.Candidates(e)) ids.push_back(t->definition.id);
  return ids;
}

using Ids = std::vector<std::string>;

TEST(TriggerIndexTest, CandidatesHaveTheEventsRegistry) {
  auto index = TriggerIndex::Build({Trigger("rep"), Trigger("id", "identity")});
  EXPECT_EQ(CandidateIds(*index, MakeEvent()), Ids{"rep"});
  EXPECT_EQ(CandidateIds(*index, MakeEvent("identity", "Registered")), Ids{"id"});
  EXPECT_EQ(CandidateIds(*index, MakeEvent("validation", "ValidationRequest")), Ids{});
}

TEST(TriggerIndexTest, ATriggerWithoutChainMatchesEveryChain) {
  auto index = TriggerIndex::Build(
      {Trigger("any"), Trigger("one", "reputation", 1), Trigger("base", "reputation", 8453)});
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 1)), (Ids{"any", "one"}));
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 8453)),
            (Ids{"any", "base"}));
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 10)), Ids{"any"});
}

TEST(TriggerIndexTest, ProbeChainEventsReachOnlyTriggersNamingThatChain) {
  // `auri verify`'s probe and the drills' heartbeats must not set off users' triggers.
  auto index = TriggerIndex::Build({Trigger("any"), Trigger("one", "reputation", 1),
                                    Trigger("probe", "reputation", kProbeChainId)});
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", kProbeChainId)),
            Ids{"probe"});
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 1)), (Ids{"any", "one"}));
}

TEST(TriggerIndexTest, EventTypeEqualsPinsTheTrigger) {
  TriggerDefinition revoked = Trigger("revoked");
  revoked.conditions = {Cond("c1", "event_type_equals", "FeedbackRevoked")};
  auto index = TriggerIndex::Build({revoked, Trigger("all")});
  EXPECT_EQ(index->Find("revoked")->pinned_event_type, "FeedbackRevoked");
  EXPECT_EQ(CandidateIds(*index, MakeEvent()), Ids{"all"});
  // Same created_at: ordered by id.
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "FeedbackRevoked")),
            (Ids{"all", "revoked"}));
}

TEST(TriggerIndexTest, AgentIdEqualsPinsTheTrigger) {
  TriggerDefinition agent7 = Trigger("agent7");
  agent7.conditions = {Cond("c1", "score_threshold", "10", ">"),
                       Cond("c2", "agent_id_equals", "7")};
  TriggerDefinition agent0 = Trigger("agent0");
  agent0.conditions = {Cond("c3", "agent_id_equals", "0")};
  auto index = TriggerIndex::Build({agent7, agent0});
  EXPECT_EQ(index->Find("agent7")->pinned_agent_id, 7);
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 1, 42)), Ids{});
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 1, 7)), Ids{"agent7"});
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 1, 0)), Ids{"agent0"});
}

TEST(TriggerIndexTest, PinsAfterTheFirstStatefulConditionAreNotUsed) {
  // The rate counter must see every event of the registry (short-circuit rule), so the trigger
  // cannot be hidden behind the agent id that follows it.
  TriggerDefinition t = Trigger("t");
  t.is_stateful = true;
  t.conditions = {Cond("rate", "rate_limit", "3", ">=", R"({"time_window": "1h"})"),
                  Cond("agent", "agent_id_equals", "7")};
  auto index = TriggerIndex::Build({t});
  const CompiledTrigger* compiled = index->Find("t");
  ASSERT_NE(compiled, nullptr);
  EXPECT_FALSE(compiled->pinned_agent_id.has_value());
  Event e = MakeEvent("reputation", "NewFeedback", 1, 42);
  ASSERT_EQ(CandidateIds(*index, e), Ids{"t"});
  Evaluation r = EvaluateTrigger(*compiled, e, {});
  EXPECT_EQ(r.outcome, Outcome::kNotMatched);
  ASSERT_EQ(r.state_updates.size(), 1u) << "the event was counted";
  EXPECT_EQ(r.state_updates[0].condition_id, "rate");
}

TEST(TriggerIndexTest, PinsBeforeTheFirstStatefulConditionAreUsed) {
  TriggerDefinition t = Trigger("t");
  t.is_stateful = true;
  t.conditions = {Cond("agent", "agent_id_equals", "7"),
                  Cond("ema", "ema_threshold", "50", "<", R"({"window_size": 5})"),
                  Cond("type", "event_type_equals", "NewFeedback")};
  auto index = TriggerIndex::Build({t});
  EXPECT_EQ(index->Find("t")->pinned_agent_id, 7);
  EXPECT_FALSE(index->Find("t")->pinned_event_type.has_value());
  // FeedbackRevoked reaches the trigger: the EMA sits before event_type_equals.
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "FeedbackRevoked", 1, 7)), Ids{"t"});
}

TEST(TriggerIndexTest, DisabledTriggersAreNotIndexed) {
  TriggerDefinition off = Trigger("off");
  off.enabled = false;
  auto index = TriggerIndex::Build({off, Trigger("on")});
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->Find("off"), nullptr);
  EXPECT_EQ(CandidateIds(*index, MakeEvent()), Ids{"on"});
}

TEST(TriggerIndexTest, EventsOlderThanTheTriggerAreSkipped) {
  auto index = TriggerIndex::Build({Trigger("t")});
  int64_t created_s = kCreatedMs / 1000;
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 1, 42, created_s - 1)),
            Ids{});
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 1, 42, created_s)),
            Ids{"t"});
}

TEST(TriggerIndexTest, CreatedAtGuardComparesMillisecondsAgainstWholeSeconds) {
  TriggerDefinition t = Trigger("t");
  t.created_at_ms = kCreatedMs + 500;  // created half a second into the event's second
  auto index = TriggerIndex::Build({t});
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 1, 42, kCreatedMs / 1000)),
            Ids{});
}

TEST(TriggerIndexTest, CandidatesComeInCreationOrder) {
  TriggerDefinition a = Trigger("a");
  a.created_at_ms = kCreatedMs + 2;
  a.conditions = {Cond("c1", "agent_id_equals", "42")};
  TriggerDefinition b = Trigger("b", "reputation", 1);
  b.created_at_ms = kCreatedMs + 1;
  TriggerDefinition c = Trigger("c");
  c.created_at_ms = kCreatedMs + 1;
  c.conditions = {Cond("c2", "event_type_equals", "NewFeedback")};
  auto index = TriggerIndex::Build({a, c, b});
  EXPECT_EQ(CandidateIds(*index, MakeEvent()), (Ids{"b", "c", "a"}));
}

TEST(TriggerIndexTest, FindsCandidatesWithoutLookingAtTriggersThatCannotMatch) {
  std::vector<TriggerDefinition> defs;
  for (int i = 0; i < 5000; ++i) {
    TriggerDefinition t = Trigger("t" + std::to_string(i));
    t.conditions = {Cond("c" + std::to_string(i), "agent_id_equals", std::to_string(i))};
    defs.push_back(std::move(t));
  }
  auto index = TriggerIndex::Build(std::move(defs));
  EXPECT_EQ(index->size(), 5000u);
  EXPECT_EQ(CandidateIds(*index, MakeEvent("reputation", "NewFeedback", 1, 1234)), Ids{"t1234"});
}

TEST(TriggerIndexTest, ActionsAreOrderedByPriorityKeepingLoadOrderForTies) {
  TriggerDefinition t = Trigger("t");
  t.actions = {{"late", "webhook", 5, "{}"},
               {"first", "telegram", 0, "{}"},
               {"second", "webhook", 0, "{}"},
               {"early", "webhook", -1, "{}"}};
  auto index = TriggerIndex::Build({t});
  std::vector<std::string> order;
  for (const ActionDefinition& a : index->Find("t")->definition.actions) order.push_back(a.id);
  EXPECT_EQ(order, (Ids{"early", "first", "second", "late"}));
}

TEST(TriggerIndexTest, ATriggerWhoseConditionNoLongerCompilesEvaluatesToAnError) {
  // A stateful condition left on a trigger that was switched to is_stateful = false.
  TriggerDefinition t = Trigger("t");
  t.conditions = {Cond("agent", "agent_id_equals", "7"),
                  Cond("ema", "ema_threshold", "50", "<", R"({"window_size": 5})")};
  auto index = TriggerIndex::Build({t});
  EXPECT_EQ(index->broken_trigger_count(), 1u);
  const CompiledTrigger* compiled = index->Find("t");
  ASSERT_NE(compiled, nullptr);
  EXPECT_FALSE(compiled->pinned_agent_id.has_value()) << "indexed without pins";
  Event e = MakeEvent("reputation", "NewFeedback", 1, 42);
  ASSERT_EQ(CandidateIds(*index, e), Ids{"t"});
  Evaluation r = EvaluateTrigger(*compiled, e, {});
  EXPECT_EQ(r.outcome, Outcome::kError);
  EXPECT_NE(r.error.message().find("trigger t, condition ema: invalid condition"),
            std::string::npos)
      << r.error.message();
}

TEST(TriggerIndexTest, TriggersWithAnUnknownRegistryAreListedNotIndexed) {
  auto index = TriggerIndex::Build({Trigger("bad", "reputations"), Trigger("good")});
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->unindexed_trigger_ids(), Ids{"bad"});
}

TEST(TriggerIndexTest, EvaluateTriggerMatchesWhenEveryConditionHolds) {
  TriggerDefinition t = Trigger("t");
  t.conditions = {Cond("c1", "event_type_equals", "NewFeedback"),
                  Cond("c2", "score_threshold", "40", ">")};
  auto index = TriggerIndex::Build({t});
  EXPECT_EQ(EvaluateTrigger(*index->Find("t"), MakeEvent(), {}).outcome, Outcome::kMatched);
}

TEST(CurrentTriggerIndexTest, StartsEmptyAndNeverNull) {
  CurrentTriggerIndex current;
  ASSERT_NE(current.Load(), nullptr);
  EXPECT_EQ(current.Load()->size(), 0u);
  EXPECT_TRUE(current.Load()->Candidates(MakeEvent()).empty());
}

TEST(CurrentTriggerIndexTest, PublishReplacesTheIndexWhileOldSnapshotsStayUsable) {
  CurrentTriggerIndex current;
  current.Publish(TriggerIndex::Build({Trigger("old")}));
  std::shared_ptr<const TriggerIndex> held = current.Load();
  std::vector<const CompiledTrigger*> candidates = held->Candidates(MakeEvent());
  current.Publish(TriggerIndex::Build({Trigger("new")}));
  EXPECT_EQ(CandidateIds(*current.Load(), MakeEvent()), Ids{"new"});
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_EQ(candidates[0]->definition.id, "old") << "the held snapshot is still alive";
}

TEST(CurrentTriggerIndexTest, ReadersSeeACompleteIndexWhilePublishing) {
  CurrentTriggerIndex current;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop.load()) {
      auto index = current.Load();
      size_t n = index->Candidates(MakeEvent()).size();
      if (n != 0 && n != 3) bad.fetch_add(1);
    }
  });
  for (int i = 0; i < 200; ++i) {
    current.Publish(TriggerIndex::Build({Trigger("a"), Trigger("b"), Trigger("c")}));
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace auri::pipeline
