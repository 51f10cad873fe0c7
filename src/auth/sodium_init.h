#pragma once
// Internal to auri_auth: libsodium must be initialised once before its first use (it picks
// implementations and opens the random source). sodium_init() is itself idempotent and
// thread-safe; this wrapper only turns its failure into a Status.
#include <sodium.h>

#include "common/status.h"

namespace auri {

inline Status EnsureSodiumInitialized() {
  static const bool ok = sodium_init() >= 0;  // 0 = initialised now, 1 = already initialised
  return ok ? Status::Ok() : Internal("libsodium failed to initialise");
}

}  // namespace auri
