#include "stack/stack_control.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include "common/fs.h"
#include "stack/process.h"

namespace auri {

Result<StackState> RunningStack(const std::string& state_file) {
  auto state = ReadStackState(state_file);
  if (!state.ok()) {
    if (state.status().code() == StatusCode::kNotFound) {
      return NotFound("the stack is not running (no " + state_file + ")",
                      "start it with `auri up`");
    }
    return state.status();
  }
  if (!ProcessAlive(state->supervisor_pid)) {
    return NotFound("the stack is not running (its supervisor, pid " +
                        std::to_string(state->supervisor_pid) + ", is gone)",
                    "start it with `auri up`");
  }
  return state;
}

Status RequestSupervisorReload(const std::string& state_file) {
  ASSIGN_OR_RETURN(StackState state, RunningStack(state_file));
  if (::kill(state.supervisor_pid, SIGHUP) != 0) {
    return ErrnoStatus("cannot signal the supervisor", std::to_string(state.supervisor_pid));
  }
  return Status::Ok();
}

Result<ComponentState> WaitForComponent(const std::string& state_file, const std::string& name,
                                        const std::function<bool(const ComponentState&)>& done,
                                        std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "not listed";
  while (true) {
    auto state = ReadStackState(state_file);
    if (state.ok()) {
      if (!ProcessAlive(state->supervisor_pid)) {
        return Unavailable("the supervisor (pid " + std::to_string(state->supervisor_pid) +
                           ") went away while waiting for " + name);
      }
      for (const auto& c : state->components) {
        if (c.name != name) continue;
        if (done(c)) return c;
        last = "pid " + std::to_string(c.pid) + ", port " + std::to_string(c.port) +
               (c.last_exit.empty() ? "" : ", " + c.last_exit);
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded("the supervisor did not bring " + name +
                              " to the requested state within " + std::to_string(timeout.count()) +
                              " ms (last: " + last + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

namespace {
std::string HoldFile(const std::string& run_dir, const std::string& name) {
  return run_dir + "/" + name + ".hold";
}
}  // namespace

Status HoldComponent(const std::string& run_dir, const std::string& name,
                     const std::string& reason) {
  RETURN_IF_ERROR(MakeDirectories(run_dir, 0755));
  return WriteFileAtomically(HoldFile(run_dir, name),
                             std::to_string(::getpid()) + "\n" + reason + "\n", 0644);
}

Status ReleaseComponent(const std::string& run_dir, const std::string& name) {
  if (::unlink(HoldFile(run_dir, name).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot remove hold file", HoldFile(run_dir, name));
  }
  return Status::Ok();
}

bool ComponentHeld(const std::string& run_dir, const std::string& name) {
  auto text = ReadFileLimited(HoldFile(run_dir, name), 4096);
  if (!text.ok()) return false;
  pid_t holder = static_cast<pid_t>(std::atol(text->c_str()));
  return holder > 0 && ProcessAlive(holder);
}

}  // namespace auri
