#pragma once
// DrLock: one DR command at a time per deployment. An exclusive flock on <home>/run/dr.lock, held
// for the life of the object and released by the kernel if the process dies, so a crash never
// leaves a stale lock. The file records who holds it, for the refusal message.
#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"

namespace auri::dr {

class DrLock {
 public:
  // Takes the lock without waiting. Errors: kFailedPrecondition (exit 4) naming the holder when
  // another DR command runs; kUnavailable when the lock file cannot be opened.
  static Result<DrLock> Acquire(const std::string& run_dir, const std::string& command);

  // Like Acquire, but while another command holds the lock, waits for it (polling every 200 ms)
  // at most `wait`; `on_wait` is called once with the refusal message when waiting starts (e.g.
  // to print "waiting for the dr-agent's backup"). wait = 0 behaves as Acquire. Errors: those of
  // Acquire, the refusal naming the holder when the wait runs out.
  // While it waits, it leaves its pid in <run_dir>/dr.lock.wanted so background work (the
  // dr-agent) lets it go first (see SomeoneWaits).
  static Result<DrLock> AcquireWaiting(const std::string& run_dir, const std::string& command,
                                       std::chrono::milliseconds wait,
                                       const std::function<void(const std::string&)>& on_wait);

  // True while another live process waits in AcquireWaiting: the dr-agent then postpones its
  // scheduled run, so a manual command is never starved by back-to-back scheduled runs.
  static bool SomeoneWaits(const std::string& run_dir);

  DrLock(DrLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DrLock& operator=(DrLock&&) = delete;
  DrLock(const DrLock&) = delete;
  ~DrLock();

 private:
  explicit DrLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace auri::dr
