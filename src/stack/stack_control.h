#pragma once
// Talking to a running supervisor from another process (`auri restore`): ask it to reload
// (SIGHUP), hold a component stopped, and wait until the run file shows what was asked for.
// See stack/supervisor.h for what a reload does.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"
#include "stack/stack_state.h"

namespace auri {

// The run file's state when its supervisor is alive. Errors: kNotFound when the stack is not
// running (no run file, or its supervisor is gone).
Result<StackState> RunningStack(const std::string& state_file);

// Sends SIGHUP to the supervisor of `state_file`. Errors: those of RunningStack.
Status RequestSupervisorReload(const std::string& state_file);

// Polls the run file (every 50 ms, at most `timeout`) until component `name` satisfies `done`.
// Errors: kDeadlineExceeded naming the component and its last state; kUnavailable when the
// supervisor went away meanwhile.
Result<ComponentState> WaitForComponent(const std::string& state_file, const std::string& name,
                                        const std::function<bool(const ComponentState&)>& done,
                                        std::chrono::milliseconds timeout);

// Hold files: <run_dir>/<name>.hold holds the pid of the process that asked for the hold. A hold
// whose process is gone no longer counts, so a crashed `auri restore --in-place` does not leave
// PostgreSQL stopped for good.
Status HoldComponent(const std::string& run_dir, const std::string& name,
                     const std::string& reason);
Status ReleaseComponent(const std::string& run_dir, const std::string& name);
bool ComponentHeld(const std::string& run_dir, const std::string& name);

}  // namespace auri
