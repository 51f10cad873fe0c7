#pragma once
// A Logger whose lines land in an anonymous temporary file the test can read back.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/logging.h"

namespace auri::api::test {

class LogCapture {
 public:
  explicit LogCapture(LogLevel level = LogLevel::kDebug)
      : file_(std::tmpfile()), logger_(fileno(file_), "api-test", level) {}
  ~LogCapture() { std::fclose(file_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  const Logger& logger() const { return logger_; }

  // Everything logged so far.
  std::string Text() const {
    struct stat st {};
    if (fstat(fileno(file_), &st) != 0) return "";
    std::string text(static_cast<size_t>(st.st_size), '\0');
    ssize_t n = pread(fileno(file_), text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return text;
  }

 private:
  FILE* file_;
  Logger logger_;
};

}  // namespace auri::api::test
