#pragma once
// Progress: the "one line per step, with elapsed time" output of DR commands (spec 40-dr.md).
// Lines go to stdout, or to stderr when the command prints a JSON document on stdout.
#include <chrono>
#include <cstdio>
#include <string>

namespace auri::dr {

class Progress {
 public:
  explicit Progress(bool json) : out_(json ? stderr : stdout) {}
  // Lines go to `out` (not owned; e.g. a role's log file); nullptr = nowhere.
  explicit Progress(std::FILE* out) : out_(out) {}

  // Prints "[   1.2s] <what>".
  void Step(const std::string& what) const {
    if (out_ == nullptr) return;
    std::fprintf(out_, "[%6.1fs] %s\n", Seconds(), what.c_str());
    std::fflush(out_);
  }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace auri::dr
