#include "pipeline/trigger_index.h"

#include <algorithm>
#include <tuple>

#include "common/probe_chain.h"

namespace auri::pipeline {
namespace {

std::optional<uint8_t> RegistryCode(std::string_view registry) {
  if (registry == "identity") return 0;
  if (registry == "reputation") return 1;
  if (registry == "validation") return 2;
  return std::nullopt;
}

CompiledTrigger CompileTrigger(TriggerDefinition definition) {
  CompiledTrigger t;
  // Jobs are created in action order; equal priorities keep the order the store loaded them in.
  std::stable_sort(
      definition.actions.begin(), definition.actions.end(),
      [](const ActionDefinition& a, const ActionDefinition& b) { return a.priority < b.priority; });
  t.definition = std::move(definition);
  // Stored conditions are compiled without the registry check: a trigger whose registry changed
  // keeps conditions that simply never match.
  ConditionContext context{t.definition.is_stateful, {}};
  t.conditions.reserve(t.definition.conditions.size());
  for (const ConditionDefinition& c : t.definition.conditions) {
    Result<CompiledCondition> compiled = CompileCondition(c, context);
    if (!compiled.ok()) {
      t.compile_error =
          compiled.status().WithContext("trigger " + t.definition.id + ", condition " + c.id);
      t.conditions.clear();
      return t;
    }
    t.conditions.push_back(std::move(compiled).value());
  }
  // Pins: only conditions before the first stateful one (see the header).
  for (const CompiledCondition& c : t.conditions) {
    if (IsStatefulConditionType(c.type)) break;
    if (c.type == ConditionType::kEventTypeEquals && !t.pinned_event_type) {
      t.pinned_event_type = c.text_value;
    } else if (c.type == ConditionType::kAgentIdEquals && !t.pinned_agent_id) {
      t.pinned_agent_id = c.int_value;
    }
  }
  return t;
}

}  // namespace

Evaluation EvaluateTrigger(const CompiledTrigger& trigger, const Event& event,
                           const StoredStates& states) {
  if (!trigger.compile_error.ok()) {
    Evaluation e;
    e.outcome = Outcome::kError;
    e.error = trigger.compile_error;
    return e;
  }
  return EvaluateConditions(trigger.conditions, event, states);
}

size_t TriggerIndex::BucketKeyHash::operator()(const BucketKey& k) const {
  // splitmix64-style mixing of the fields; buckets are few, collisions only cost a compare.
  uint64_t h =
      (uint64_t{k.registry} << 16) | (uint64_t{k.event_type} << 8) | uint64_t{k.agent_pinned};
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  h = mix(h ^ mix(static_cast<uint64_t>(k.chain_id)));
  h = mix(h ^ static_cast<uint64_t>(k.agent_id));
  return static_cast<size_t>(h);
}

std::shared_ptr<const TriggerIndex> TriggerIndex::Build(
    std::vector<TriggerDefinition> definitions) {
  std::shared_ptr<TriggerIndex> index(new TriggerIndex());
  std::sort(definitions.begin(), definitions.end(),
            [](const TriggerDefinition& a, const TriggerDefinition& b) {
              return std::tie(a.created_at_ms, a.id) < std::tie(b.created_at_ms, b.id);
            });
  index->triggers_.reserve(definitions.size());
  for (TriggerDefinition& d : definitions) {
    if (!d.enabled) continue;
    if (!RegistryCode(d.registry)) {
      index->unindexed_.push_back(d.id);
      continue;
    }
    index->triggers_.push_back(CompileTrigger(std::move(d)));
  }
  // triggers_ is complete: addresses and string_views into it are stable from here on.
  for (uint32_t i = 0; i < index->triggers_.size(); ++i) {
    const CompiledTrigger& t = index->triggers_[i];
    BucketKey key;
    key.registry = *RegistryCode(t.definition.registry);
    key.chain_id = t.definition.chain_id.value_or(0);
    if (t.pinned_event_type) {
      // An unknown pinned type cannot compile, so the ordinal exists.
      key.event_type = static_cast<uint8_t>(1 + EventTypeOrdinal(*t.pinned_event_type).value_or(0));
    }
    if (t.pinned_agent_id) {
      key.agent_pinned = true;
      key.agent_id = *t.pinned_agent_id;
    }
    index->buckets_[key].push_back({t.definition.created_at_ms, i});  // ascending: stays sorted
    index->by_id_.emplace(t.definition.id, i);
    if (!t.compile_error.ok()) ++index->broken_count_;
  }
  return index;
}

void TriggerIndex::Candidates(const Event& event, std::vector<const CompiledTrigger*>* out) const {
  out->clear();
  std::optional<uint8_t> registry = RegistryCode(event.registry);
  if (!registry || buckets_.empty()) return;
  // The "any" entries (0) come last; a value that is itself "any" (an event without a valid
  // chain or type, which validation prevents) is looked up once.
  std::optional<size_t> type = EventTypeOrdinal(event.event_type);
  // An event on the probe chain only reaches triggers that name that chain (common/probe_chain.h).
  const int64_t chains[2] = {event.chain_id > 0 ? event.chain_id : 0, 0};
  const int chain_count = event.chain_id > 0 && event.chain_id != kProbeChainId ? 2 : 1;
  const uint8_t types[2] = {static_cast<uint8_t>(type ? 1 + *type : 0), 0};
  const int type_count = type ? 2 : 1;
  const int64_t block_time_ms = event.timestamp * 1000;

  // Up to 8 runs of trigger positions, each ascending (buckets are built in position order);
  // merged in place so the result is in position order, i.e. (created_at, id).
  thread_local std::vector<uint32_t> positions;
  positions.clear();
  size_t runs = 0;
  BucketKey key;
  key.registry = *registry;
  for (int c = 0; c < chain_count; ++c) {
    key.chain_id = chains[c];
    for (int ty = 0; ty < type_count; ++ty) {
      key.event_type = types[ty];
      for (int a = 0; a < 2; ++a) {
        key.agent_pinned = a == 0;
        key.agent_id = a == 0 ? event.agent_id : 0;
        auto it = buckets_.find(key);
        if (it == buckets_.end()) continue;
        size_t run_start = positions.size();
        for (const Entry& entry : it->second) {
          // The created_at guard (see the header): no back-fill floods.
          if (block_time_ms >= entry.created_at_ms) positions.push_back(entry.position);
        }
        if (run_start != positions.size() && runs++ > 0) {
          std::inplace_merge(positions.begin(),
                             positions.begin() + static_cast<ptrdiff_t>(run_start),
                             positions.end());
        }
      }
    }
  }
  out->reserve(positions.size());
  for (uint32_t i : positions) out->push_back(&triggers_[i]);
}

std::vector<const CompiledTrigger*> TriggerIndex::Candidates(const Event& event) const {
  std::vector<const CompiledTrigger*> out;
  Candidates(event, &out);
  return out;
}

const CompiledTrigger* TriggerIndex::Find(std::string_view trigger_id) const {
  auto it = by_id_.find(trigger_id);
  return it == by_id_.end() ? nullptr : &triggers_[it->second];
}

CurrentTriggerIndex::CurrentTriggerIndex() : current_(TriggerIndex::Build({})) {}

}  // namespace auri::pipeline
