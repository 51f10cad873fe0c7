#pragma once
// JSON-lines logging: one object per line, {"ts","level","msg",...fields}, written whole with one
// write(2) so lines from several threads and processes never interleave.
//
// A Logger is created once by the CLI and passed by reference (no global). It is thread-safe.
// Field values are JSON-escaped; the caller must never pass a secret as a value (the secret store
// hands out values only through SecretValue, which does not convert to a string implicitly).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace auri {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };

// Parses "debug" | "info" | "warn" | "error"; returns false on anything else.
bool ParseLogLevel(std::string_view text, LogLevel* out);

// One key/value pair of a log line. Numbers stay numbers in the JSON.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), text(v), kind(Kind::kString) {}
  LogField(std::string_view k, const char* v) : key(k), text(v ? v : ""), kind(Kind::kString) {}
  LogField(std::string_view k, const std::string& v) : key(k), text(v), kind(Kind::kString) {}
  LogField(std::string_view k, int64_t v) : key(k), number(v), kind(Kind::kInt) {}
  LogField(std::string_view k, int v) : key(k), number(v), kind(Kind::kInt) {}
  LogField(std::string_view k, unsigned v) : key(k), number(v), kind(Kind::kInt) {}
  LogField(std::string_view k, uint64_t v)
      : key(k), number(static_cast<int64_t>(v)), kind(Kind::kInt) {}
  LogField(std::string_view k, double v) : key(k), real(v), kind(Kind::kReal) {}
  LogField(std::string_view k, bool v) : key(k), number(v), kind(Kind::kBool) {}

  enum class Kind { kString, kInt, kReal, kBool };
  std::string_view key;
  std::string_view text;
  int64_t number = 0;
  double real = 0;
  Kind kind;
};

using LogFields = std::initializer_list<LogField>;

class Logger {
 public:
  // Writes to `fd` (not owned; stays open for the logger's life). `component` is added to each line
  // as "component" so interleaved logs of the roles can be told apart.
  Logger(int fd, std::string component, LogLevel min_level = LogLevel::kInfo);

  void Log(LogLevel level, std::string_view msg, LogFields fields = {}) const;
  void Debug(std::string_view msg, LogFields f = {}) const { Log(LogLevel::kDebug, msg, f); }
  void Info(std::string_view msg, LogFields f = {}) const { Log(LogLevel::kInfo, msg, f); }
  void Warn(std::string_view msg, LogFields f = {}) const { Log(LogLevel::kWarn, msg, f); }
  void Error(std::string_view msg, LogFields f = {}) const { Log(LogLevel::kError, msg, f); }

  bool Enabled(LogLevel level) const { return level >= min_level_; }
  const std::string& component() const { return component_; }

 private:
  int fd_;
  std::string component_;
  LogLevel min_level_;
};

// Appends `s` to `out` as the inside of a JSON string (quotes not included). Invalid UTF-8 bytes
// are replaced with U+FFFD so every line stays valid JSON.
void AppendJsonEscaped(std::string* out, std::string_view s);

}  // namespace auri
