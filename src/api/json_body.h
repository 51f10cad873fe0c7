#pragma once
// Reading JSON request bodies and writing JSON answers the way every handler must (spec 10-api.md,
// "Conventions"): 415 for a non-JSON content type, 400 bad_request for malformed JSON (including
// invalid UTF-8), 400 validation_error with details.fields for wrong types, missing fields,
// out-of-range values and oversize strings; unknown fields are ignored. Internal to src/api
// (includes nlohmann/json): handlers include it, public headers do not.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/http.h"
#include "pipeline/field_error.h"

namespace auri::api {

// True for "application/json", with parameters ("; charset=utf-8") and in any case.
bool IsJsonContentType(std::optional<std::string_view> value);

// The body of `request` as a JSON object, or the 415/400 response to send. An empty body is
// accepted as {} only when `allow_empty` (for POST routes whose fields are all optional).
std::variant<nlohmann::json, HttpResponse> ParseJsonObject(const HttpRequest& request,
                                                           bool allow_empty = false);

// Serializes `value` for a response; invalid UTF-8 (which cannot come from parsed input, but may
// from the database in theory) is replaced rather than thrown.
std::string DumpJson(const nlohmann::json& value);

// {"data": value}
HttpResponse DataResponse(int status, const nlohmann::json& value);

// 400 validation_error with details.fields = {field: message} (messages of one field joined).
HttpResponse ValidationErrorResponse(const pipeline::FieldErrors& errors);

// Reads typed fields out of one JSON object, collecting a FieldError for each problem so a client
// learns every bad field at once. A field that is absent (or null, unless allowed) yields nullopt;
// `required` adds "is required". Field names in errors are `prefix + name` ("conditions[2].value").
class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, pipeline::FieldErrors* errors, std::string prefix = "");

  // A string of min_len..max_len characters (Unicode code points), without NUL.
  std::optional<std::string> String(std::string_view name, bool required, size_t min_len,
                                    size_t max_len);
  // An integer in [min, max] (JSON numbers with a fraction, or beyond int64, are errors).
  std::optional<int64_t> Int(std::string_view name, bool required, int64_t min, int64_t max);
  // A finite number in [min, max].
  std::optional<double> Number(std::string_view name, bool required, double min, double max);
  std::optional<bool> Bool(std::string_view name, bool required);
  // One of `allowed` (exact match).
  std::optional<std::string> Enum(std::string_view name, bool required,
                                  const std::vector<std::string_view>& allowed);
  // The raw member (object/array/any) when present and not null; `required` as above.
  const nlohmann::json* Raw(std::string_view name, bool required);
  // True when the member is present (even if null).
  bool Has(std::string_view name) const;
  // True when the member is present and explicitly null.
  bool IsNull(std::string_view name) const;

  void Fail(std::string_view name, std::string message);
  const std::string& prefix() const { return prefix_; }

 private:
  const nlohmann::json* Find(std::string_view name) const;
  const nlohmann::json& object_;
  pipeline::FieldErrors* errors_;
  std::string prefix_;
};

// `limit` (default 20, 1..100) and `offset` (≥ 0) from the query string.
struct Page {
  int64_t limit = 20;
  int64_t offset = 0;
};
// The page, or a 400 validation_error naming the bad parameter.
std::variant<Page, HttpResponse> ParsePage(const HttpRequest& request);

// {"data": items, "pagination": {"total", "limit", "offset", "has_more"}} with 200.
HttpResponse ListResponse(nlohmann::json items, int64_t total, const Page& page);

}  // namespace auri::api
