#pragma once
// A Clock that moves only when a test moves it (both the monotonic and the wall clock).
#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/clock.h"

namespace auri::testing {

class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t unix_ms = 1'700'000'000'000) : unix_ms(unix_ms) {}
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(steady_ms.load()));
  }
  int64_t UnixMillis() const override { return unix_ms.load(); }
  void Advance(int64_t ms) {
    steady_ms += ms;
    unix_ms += ms;
  }
  std::atomic<int64_t> steady_ms{1'000'000};
  std::atomic<int64_t> unix_ms;
};

}  // namespace auri::testing
