#pragma once
// SecretMatcher: answers "is this the current value of secret X?" for request authentication
// (the ingest token), without decrypting the secret on every request.
//
// The current value is cached in memory and re-read when SecretStore::Generation() changes; the
// generation is checked at most once per `recheck_interval` (default 1 s), so a rotation takes
// effect within about a second without a restart. Comparison is constant-time in the value.
// If the store cannot be read, the last value read stays in force (a transient I/O error must not
// lock every client out); before the first successful read nothing matches.
//
// Thread-safe. `store` and `clock` are not owned and must outlive the matcher.
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "secrets/secret_store.h"

namespace auri {

class SecretMatcher {
 public:
  SecretMatcher(const SecretStore* store, std::string name, const Clock* clock,
                std::chrono::milliseconds recheck_interval = std::chrono::seconds(1));

  // True when `candidate` equals the secret's current version. Never logs either value.
  bool Matches(std::string_view candidate);

 private:
  void RefreshLocked();
  const SecretStore* store_;
  const std::string name_;
  const Clock* clock_;
  const std::chrono::milliseconds recheck_interval_;
  std::mutex mu_;
  bool loaded_ = false;
  uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point next_check_{};
  SecretValue current_;
};

}  // namespace auri
