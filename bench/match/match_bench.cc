// Trigger matching cost per event (spec 20-pipeline.md: 10,000 triggers ≤ 100 µs per event).
//
// One event → TriggerIndex::Candidates → EvaluateTrigger on every candidate (stateful candidates
// parse their stored state JSON and serialize the new one, as the processor does). The database
// round trips of the processor are not included: this measures the in-memory part only.
//
// The 10,000 enabled triggers are spread the way users write them (fixed seed, so runs compare):
//   registry  uniform over identity / reputation / validation
//   chain     80% one of 4 chains (1, 10, 8453, 11155111), 20% any chain
//   pins      70% event_type_equals (a type of the registry), 80% agent_id_equals (2,000 agents)
//   then      a score_threshold or field_compare condition
//   stateful  10%: an ema_threshold or rate_limit after the pins
// BM_MatchEvent_Spread is the headline number. BM_MatchEvent_AllUnpinned is the adversarial case
// (10,000 triggers that all pin nothing on the event's registry and chain): every trigger is a
// candidate, so the cost is linear in the number of triggers, which no index can avoid.
//
//   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DAURI_BUILD_BENCH=ON
//   cmake --build build-bench --target match_bench && build-bench/bench/match_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "pipeline/condition.h"
#include "pipeline/event.h"
#include "pipeline/trigger_index.h"

namespace auri::pipeline {
namespace {

constexpr int kTriggers = 10000;
constexpr int kAgents = 2000;
const int64_t kChains[] = {1, 10, 8453, 11155111};
const char* const kRegistries[] = {"identity", "reputation", "validation"};
const std::vector<std::vector<std::string>> kTypes = {
    {"Registered", "MetadataSet", "URIUpdated", "Transfer"},
    {"NewFeedback", "FeedbackRevoked", "ResponseAppended"},
    {"ValidationRequest", "ValidationResponse"}};

struct Workload {
  std::shared_ptr<const TriggerIndex> index;
  StoredStates states;  // one typical state per stateful condition
  std::vector<Event> events;
};

Event MakeEvent(std::mt19937_64& rng, int i) {
  Event e;
  e.chain_id = kChains[rng() % 4];
  e.registry = "reputation";
  e.event_type = "NewFeedback";
  e.agent_id = static_cast<int64_t>(rng() % kAgents);
  e.timestamp = 1'764'585'840 + i;
  e.transaction_hash = "0x" + std::string(63, '0') + std::to_string(i % 10);
  e.log_index = i;
  e.id = ComputeEventId(e.registry, e.chain_id, e.transaction_hash, e.log_index);
  e.score = static_cast<int32_t>(rng() % 101);
  e.client_address = "0x2ec8a3d26b720c7a2b16f582d883f798beea3628";
  e.tag1 = "quality";
  return e;
}

Workload Spread() {
  std::mt19937_64 rng(8004);
  std::vector<TriggerDefinition> defs;
  StoredStates states;
  for (int i = 0; i < kTriggers; ++i) {
    TriggerDefinition t;
    t.id = "trigger-" + std::to_string(i);
    t.organization_id = "org-" + std::to_string(i % 500);
    size_t r = rng() % 3;
    t.registry = kRegistries[r];
    if (rng() % 10 < 8) t.chain_id = kChains[rng() % 4];
    t.is_stateful = rng() % 10 == 0;
    t.created_at_ms = 1'700'000'000'000;
    auto cond = [&](std::string type, std::optional<std::string> field,
                    std::optional<std::string> op, std::string value, std::string config = "{}") {
      t.conditions.push_back({t.id + "-c" + std::to_string(t.conditions.size()), std::move(type),
                              std::move(field), std::move(op), std::move(value),
                              std::move(config)});
    };
    if (rng() % 10 < 7) {
      cond("event_type_equals", {}, {}, kTypes[r][rng() % kTypes[r].size()]);
    }
    if (rng() % 10 < 8) cond("agent_id_equals", {}, {}, std::to_string(rng() % kAgents));
    if (rng() % 2 == 0) {
      cond("score_threshold", {}, rng() % 2 ? ">=" : "<", std::to_string(rng() % 101));
    } else {
      cond("field_compare", "client_address", "starts_with", "0x2EC8");
    }
    if (t.is_stateful) {
      if (rng() % 2 == 0) {
        cond("ema_threshold", {}, "<", "50", R"({"window_size": 10})");
        states[t.conditions.back().id] =
            R"({"ema": 61.5, "count": 40, "last_updated": 1764585000})";
      } else {
        cond("rate_limit", {}, ">=", "5", R"({"time_window": "1h", "reset_on_trigger": true})");
        states[t.conditions.back().id] =
            R"({"recent_timestamps": [1764585001, 1764585100, 1764585200], "count": 3})";
      }
    }
    t.actions.push_back({t.id + "-a", "webhook", 0, R"({"url": "https://example.com/hook"})"});
    defs.push_back(std::move(t));
  }
  Workload w;
  w.index = TriggerIndex::Build(std::move(defs));
  w.states = std::move(states);
  for (int i = 0; i < 1024; ++i) w.events.push_back(MakeEvent(rng, i));
  return w;
}

Workload AllUnpinned() {
  std::mt19937_64 rng(8004);
  std::vector<TriggerDefinition> defs;
  for (int i = 0; i < kTriggers; ++i) {
    TriggerDefinition t;
    t.id = "trigger-" + std::to_string(i);
    t.registry = "reputation";
    t.created_at_ms = 1'700'000'000'000;
    t.conditions.push_back(
        {t.id + "-c0", "score_threshold", {}, ">=", std::to_string(rng() % 101), "{}"});
    defs.push_back(std::move(t));
  }
  Workload w;
  w.index = TriggerIndex::Build(std::move(defs));
  for (int i = 0; i < 1024; ++i) w.events.push_back(MakeEvent(rng, i));
  return w;
}

// Per event: candidates, then evaluate each one. Reports candidates and matches per event.
void RunMatch(benchmark::State& state, const Workload& w) {
  std::vector<const CompiledTrigger*> candidates;
  size_t i = 0;
  int64_t total_candidates = 0, total_matches = 0, events = 0;
  for (auto _ : state) {
    const Event& e = w.events[i++ & 1023];
    w.index->Candidates(e, &candidates);
    for (const CompiledTrigger* t : candidates) {
      Evaluation r = EvaluateTrigger(*t, e, w.states);
      total_matches += r.outcome == Outcome::kMatched;
      benchmark::DoNotOptimize(r);
    }
    total_candidates += static_cast<int64_t>(candidates.size());
    ++events;
  }
  state.counters["candidates/event"] = static_cast<double>(total_candidates) / events;
  state.counters["matches/event"] = static_cast<double>(total_matches) / events;
  state.counters["triggers"] = static_cast<double>(w.index->size());
  state.SetItemsProcessed(events);
}

void BM_MatchEvent_Spread(benchmark::State& state) {
  static const Workload w = Spread();
  RunMatch(state, w);
}
BENCHMARK(BM_MatchEvent_Spread)->Unit(benchmark::kMicrosecond);

void BM_CandidatesOnly_Spread(benchmark::State& state) {
  static const Workload w = Spread();
  std::vector<const CompiledTrigger*> candidates;
  size_t i = 0;
  for (auto _ : state) {
    w.index->Candidates(w.events[i++ & 1023], &candidates);
    benchmark::DoNotOptimize(candidates.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CandidatesOnly_Spread)->Unit(benchmark::kMicrosecond);

void BM_MatchEvent_AllUnpinned(benchmark::State& state) {
  static const Workload w = AllUnpinned();
  RunMatch(state, w);
}
BENCHMARK(BM_MatchEvent_AllUnpinned)->Unit(benchmark::kMicrosecond);

void BM_IndexBuild_10000(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    std::mt19937_64 rng(1);
    std::vector<TriggerDefinition> defs;
    for (int i = 0; i < kTriggers; ++i) {
      TriggerDefinition t;
      t.id = "trigger-" + std::to_string(i);
      t.registry = kRegistries[i % 3];
      t.conditions.push_back(
          {t.id + "-c0", "agent_id_equals", {}, {}, std::to_string(rng() % kAgents), "{}"});
      defs.push_back(std::move(t));
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(TriggerIndex::Build(std::move(defs)));
  }
}
BENCHMARK(BM_IndexBuild_10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace auri::pipeline

BENCHMARK_MAIN();
