#include "pipeline/field_error.h"

namespace auri::pipeline {

std::string SummarizeFieldErrors(const FieldErrors& errors) {
  constexpr size_t kMaxSpelledOut = 5;
  std::string out;
  for (size_t i = 0; i < errors.size() && i < kMaxSpelledOut; ++i) {
    if (i > 0) out += "; ";
    out += errors[i].field;
    out += ": ";
    out += errors[i].message;
  }
  if (errors.size() > kMaxSpelledOut) {
    out += " (and " + std::to_string(errors.size() - kMaxSpelledOut) + " more)";
  }
  return out;
}

}  // namespace auri::pipeline
