#pragma once
// The run file of a local stack (<home>/run/stack.json): who the supervisor is, the state of the
// stack, and each component's pid and port. Written atomically by the supervisor; read by
// `auri up` (is it already running? is it ready?), `auri status` and `auri down`.
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace auri {

struct ComponentState {
  std::string name;
  pid_t pid = -1;
  int port = 0;
  int restarts = 0;
  std::string last_exit;  // e.g. "killed by signal SIGKILL"; empty if it never exited
};

struct StackState {
  pid_t supervisor_pid = -1;
  std::string state;  // starting | ready | stopping | failed
  std::string error;  // why it failed (state == failed)
  std::string url;    // api base URL
  int64_t started_at_ms = 0;
  std::vector<ComponentState> components;
};

Status WriteStackState(const std::string& path, const StackState& state);
// kNotFound when there is no run file (the stack is not running).
Result<StackState> ReadStackState(const std::string& path);
std::string StackStateToJson(const StackState& state);

}  // namespace auri
