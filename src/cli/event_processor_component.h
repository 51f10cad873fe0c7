#pragma once
// The event-processor as a component of the local stack (`auri up` / `auri status`). Kept out of
// cmd_stack.cc so that file only lists components.
#include <string>

#include "cli/context.h"
#include "stack/supervisor.h"

namespace auri {

// Spawns `auri [config args] event-processor` (log: <home>/log/event-processor.log); ready when
// GET /health on processor.host:processor.metrics_port answers 200; stopped with SIGTERM.
ComponentSpec EventProcessorComponent(const CliContext& ctx);

// For `auri status`: true when the processor's /health answers 200; `detail` gets its status.
bool EventProcessorHealthy(const Config& config, int port, std::string* detail);

}  // namespace auri
