#include "secrets/secret_matcher.h"

#include <sodium.h>

namespace auri {

SecretMatcher::SecretMatcher(const SecretStore* store, std::string name, const Clock* clock,
                             std::chrono::milliseconds recheck_interval)
    : store_(store), name_(std::move(name)), clock_(clock), recheck_interval_(recheck_interval) {}

void SecretMatcher::RefreshLocked() {
  auto now = clock_->SteadyNow();
  if (loaded_ && now < next_check_) return;
  next_check_ = now + recheck_interval_;
  Result<uint64_t> generation = store_->Generation();
  if (!generation.ok()) return;  // keep the last value (see header)
  if (loaded_ && *generation == generation_) return;
  Result<SecretVersion> version = store_->Get(name_);
  if (!version.ok()) return;
  current_ = version->value;
  generation_ = *generation;
  loaded_ = true;
}

bool SecretMatcher::Matches(std::string_view candidate) {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshLocked();
  if (!loaded_ || current_.empty()) return false;
  const std::string& expected = current_.reveal();
  // The length of the token is not secret (the format is public); the bytes are compared in
  // constant time so response timing reveals no prefix.
  if (candidate.size() != expected.size()) return false;
  return sodium_memcmp(candidate.data(), expected.data(), expected.size()) == 0;
}

}  // namespace auri
