#pragma once
// Child processes for the embedded stack: spawning (optionally as another OS user), waiting with
// deadlines, and stopping with escalation. POSIX only.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"

namespace auri {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the executable path (no PATH lookup)
  std::string run_as_user;        // when non-empty and we are root: setgid/initgroups/setuid first
  std::string log_file;           // stdout+stderr appended here; empty = inherit
  std::string cwd;                // empty = inherit
  std::vector<std::string> env;   // extra "KEY=VALUE" entries added to the environment
  // Signal the child receives when the spawning thread dies (PR_SET_PDEATHSIG), so a supervisor
  // killed with -9 does not leave orphans. 0 = none.
  int parent_death_signal = 0;
  bool new_session = false;  // setsid(): detach from the terminal (daemons)
};

// Starts the process. Errors: kInvalidArgument (empty argv, unknown user), kUnavailable (fork
// failed). An exec failure shows up as exit code 127 of the child, with the reason in its log.
Result<pid_t> Spawn(const SpawnOptions& options);

// Exit description of a finished child: "exited with code N" or "killed by signal SIGKILL".
std::string DescribeWaitStatus(int wait_status);

// True while `pid` exists (it may be a zombie of ours; reap with WaitForExit).
bool ProcessAlive(pid_t pid);

// Waits for our child `pid` to exit, at most `timeout`. Returns the raw wait status, or
// kDeadlineExceeded when it is still running.
Result<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout);

// Waits until a process that is not our child (e.g. started by another auri) is gone.
Status WaitUntilGone(pid_t pid, std::chrono::milliseconds timeout);

// Sends `signal`, waits `timeout` for exit (reaping it when it is our child), then SIGKILLs and
// waits again (bounded). Returns OK once the process is gone.
Status StopProcess(pid_t pid, int signal, std::chrono::milliseconds timeout, bool is_child);

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout+stderr, truncated to `max_output` bytes
};

// Runs a command to completion with a deadline, capturing its output. Errors: kDeadlineExceeded
// (the command was killed), kUnavailable (could not start). A non-zero exit is not an error here;
// the caller judges exit_code.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::string& run_as_user, std::chrono::milliseconds timeout,
                                 size_t max_output = 1 << 20);

// uid/gid of an OS user. Errors: kInvalidArgument when the user does not exist.
Status LookupUser(const std::string& user, uid_t* uid, gid_t* gid);

// chown -R path to user (used for directories PostgreSQL must own).
Status ChownRecursive(const std::string& path, const std::string& user);

}  // namespace auri
