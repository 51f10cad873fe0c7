#pragma once
// The one translation of Status into process exit codes (the other translation is to HTTP).
// These codes are a stable interface for scripts (spec 40-dr.md):
//   0 success
//   1 verification failed (the command ran, a check it performs failed)
//   2 usage or configuration error
//   3 a dependency is unavailable (PostgreSQL, Redis, a repository) or a wait ran out
//   4 refused for safety
//   5 internal error (a bug: please report it with the log)
//   130 interrupted (SIGINT/SIGTERM) by a command that cleans up before it exits (`auri drill`)
#include "common/status.h"

namespace auri {

enum ExitCode : int {
  kExitOk = 0,
  kExitCheckFailed = 1,
  kExitUsage = 2,
  kExitUnavailable = 3,
  kExitRefused = 4,
  kExitInternal = 5,
  kExitInterrupted = 130,  // the shell's 128 + SIGINT
};

int ExitCodeFor(const Status& status);

// Prints "auri: <message>" and "hint: <hint>" to stderr and returns ExitCodeFor(status).
int ReportFailure(const Status& status);

}  // namespace auri
