#pragma once
// The chain id of Auri's own test events: `auri verify`'s probe event and the drills'
// heartbeats. 2^53 − 1, above the largest chain id EIP-2294 allows, so no real chain has it.
// Events on this chain reach only triggers that name it explicitly (pipeline/trigger_index): a
// trigger for "any chain" ignores them, so checking a running deployment never sets off its
// users' triggers — nor sends their webhooks a probe. A deliberate exception to spec
// 20-pipeline.md's "chain_id equal or null" rule, see docs/decisions.md.
#include <cstdint>

namespace auri {

inline constexpr int64_t kProbeChainId = 9007199254740991;

}  // namespace auri
