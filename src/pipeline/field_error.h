#pragma once
// Per-field validation errors: what the API returns as `details.fields` of a 400 validation_error
// (spec 10-api.md). Validation in this folder collects every error it finds instead of stopping at
// the first, so a client can fix a request in one round trip.
#include <string>
#include <vector>

namespace auri::pipeline {

struct FieldError {
  // Path of the offending field as the client wrote it: "agent_id", "events[3].score",
  // "config.window_size"; "body" when the document as a whole is wrong (not JSON, not an object).
  std::string field;
  // Lowercase, says what is wrong and what is expected: "must be an integer between 0 and 100".
  std::string message;

  bool operator==(const FieldError&) const = default;
};

using FieldErrors = std::vector<FieldError>;

// "<field>: <message>; <field>: <message>" for a Status message or a log line. At most the first
// five errors are spelled out, then "(and N more)", so one bad batch cannot produce a huge message.
std::string SummarizeFieldErrors(const FieldErrors& errors);

}  // namespace auri::pipeline
