#pragma once
// PostgreSQL array literals for parameters, built by hand because libpqxx 6.4 cannot pass a
// container as a parameter. Internal to src/store.
//
// Every text element is double-quoted with '\' and '"' escaped, so no value can break out of its
// element; NULL is the unquoted keyword. Values must not contain NUL (PostgreSQL text cannot).
#include <cstdint>
#include <optional>
#include <string>

namespace auri::store_internal {

class ArrayLiteral {
 public:
  void AddText(const std::string& value) {
    Separator();
    out_ += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  void AddText(const std::optional<std::string>& value) {
    if (value) {
      AddText(*value);
    } else {
      AddNull();
    }
  }
  void AddInt(int64_t value) {
    Separator();
    out_ += std::to_string(value);
  }
  template <typename T>
  void AddInt(const std::optional<T>& value) {
    if (value) {
      AddInt(static_cast<int64_t>(*value));
    } else {
      AddNull();
    }
  }
  void AddBool(bool value) {
    Separator();
    out_ += value ? "t" : "f";
  }
  void AddNull() {
    Separator();
    out_ += "NULL";
  }
  std::string Finish() const { return "{" + out_ + "}"; }

 private:
  void Separator() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
};

}  // namespace auri::store_internal
