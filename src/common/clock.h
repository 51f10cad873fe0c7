#pragma once
// Time behind a seam so tests can control it (leveldb's Env idea, reduced to what Auri needs).
#include <chrono>
#include <cstdint>

namespace auri {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for deadlines and durations.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
  // Wall-clock time in unix milliseconds, for timestamps shown to people and stored in rows.
  virtual int64_t UnixMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::now();
  }
  int64_t UnixMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Seconds since `start` as a double, for progress lines and durations.
inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace auri
