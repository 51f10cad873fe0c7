#include "api/json_body.h"

#include <cmath>

#include "api/errors.h"
#include "pipeline/text.h"

namespace auri::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string TypeName(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

}  // namespace

bool IsJsonContentType(std::optional<std::string_view> value) {
  if (!value) return false;
  std::string_view media = *value;
  if (size_t semi = media.find(';'); semi != std::string_view::npos) media = media.substr(0, semi);
  return EqualsIgnoreCase(Trim(media), "application/json");
}

std::variant<nlohmann::json, HttpResponse> ParseJsonObject(const HttpRequest& request,
                                                           bool allow_empty) {
  if (request.body.empty() && allow_empty) return nlohmann::json::object();
  if (!IsJsonContentType(request.Header("Content-Type"))) {
    return ErrorResponse(415, "unsupported_media_type", "Content-Type must be application/json");
  }
  // The server bounds the body (1 MiB) before we get here; nlohmann also rejects invalid UTF-8
  // inside strings, so nothing malformed reaches a handler. Depth is bounded by the body size.
  nlohmann::json doc = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return ErrorResponse(400, "bad_request", "request body is not valid JSON (or not UTF-8)");
  }
  if (!doc.is_object()) {
    return ValidationErrorResponse({{"body", "must be a JSON object"}});
  }
  return doc;
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse DataResponse(int status, const nlohmann::json& value) {
  return JsonResponse(status, DumpJson(nlohmann::json{{"data", value}}));
}

HttpResponse ValidationErrorResponse(const pipeline::FieldErrors& errors) {
  nlohmann::json fields = nlohmann::json::object();
  for (const pipeline::FieldError& e : errors) {
    auto it = fields.find(e.field);
    if (it == fields.end()) {
      fields[e.field] = e.message;
    } else {
      *it = it->get<std::string>() + "; " + e.message;
    }
  }
  return ErrorResponse(400, "validation_error", "the request has invalid fields",
                       DumpJson(nlohmann::json{{"fields", fields}}));
}

FieldReader::FieldReader(const nlohmann::json& object, pipeline::FieldErrors* errors,
                         std::string prefix)
    : object_(object), errors_(errors), prefix_(std::move(prefix)) {}

const nlohmann::json* FieldReader::Find(std::string_view name) const {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(std::string(name));
  return it == object_.end() ? nullptr : &*it;
}

bool FieldReader::Has(std::string_view name) const { return Find(name) != nullptr; }

bool FieldReader::IsNull(std::string_view name) const {
  const nlohmann::json* v = Find(name);
  return v && v->is_null();
}

void FieldReader::Fail(std::string_view name, std::string message) {
  errors_->push_back({prefix_ + std::string(name), std::move(message)});
}

const nlohmann::json* FieldReader::Raw(std::string_view name, bool required) {
  const nlohmann::json* v = Find(name);
  if (!v || v->is_null()) {
    if (required) Fail(name, "is required");
    return nullptr;
  }
  return v;
}

std::optional<std::string> FieldReader::String(std::string_view name, bool required, size_t min_len,
                                               size_t max_len) {
  const nlohmann::json* v = Raw(name, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    Fail(name, "must be a string, not " + TypeName(*v));
    return std::nullopt;
  }
  const std::string& s = v->get_ref<const std::string&>();
  std::optional<size_t> length = pipeline::Utf8Length(s);
  if (!length || s.find('\0') != std::string::npos) {
    Fail(name, "must be UTF-8 text without NUL characters");
    return std::nullopt;
  }
  if (*length < min_len || *length > max_len) {
    Fail(name, min_len == max_len ? "must be exactly " + std::to_string(min_len) + " characters"
                                  : "must be " + std::to_string(min_len) + " to " +
                                        std::to_string(max_len) + " characters long");
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> FieldReader::Int(std::string_view name, bool required, int64_t min,
                                        int64_t max) {
  const nlohmann::json* v = Raw(name, required);
  if (!v) return std::nullopt;
  std::string range = " between " + std::to_string(min) + " and " + std::to_string(max);
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX) || static_cast<int64_t>(u) > max) {
      Fail(name, "must be an integer" + range);
      return std::nullopt;
    }
  } else if (!v->is_number_integer()) {
    Fail(name, "must be an integer" + range);
    return std::nullopt;
  }
  int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    Fail(name, "must be an integer" + range);
    return std::nullopt;
  }
  return n;
}

std::optional<double> FieldReader::Number(std::string_view name, bool required, double min,
                                          double max) {
  const nlohmann::json* v = Raw(name, required);
  if (!v) return std::nullopt;
  if (!v->is_number() || !std::isfinite(v->get<double>())) {
    Fail(name, "must be a number");
    return std::nullopt;
  }
  double d = v->get<double>();
  if (d < min || d > max) {
    Fail(name, "is out of range");
    return std::nullopt;
  }
  return d;
}

std::optional<bool> FieldReader::Bool(std::string_view name, bool required) {
  const nlohmann::json* v = Raw(name, required);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(name, "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::string> FieldReader::Enum(std::string_view name, bool required,
                                             const std::vector<std::string_view>& allowed) {
  std::optional<std::string> s = String(name, required, 0, 64);
  if (!s) return std::nullopt;
  for (std::string_view a : allowed) {
    if (*s == a) return s;
  }
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  Fail(name, "must be one of: " + list);
  return std::nullopt;
}

std::variant<Page, HttpResponse> ParsePage(const HttpRequest& request) {
  Page page;
  pipeline::FieldErrors errors;
  if (auto limit = request.Query("limit")) {
    std::optional<int64_t> n = pipeline::ParseInt64(*limit);
    if (!n || *n < 1 || *n > 100) {
      errors.push_back({"limit", "must be an integer between 1 and 100"});
    } else {
      page.limit = *n;
    }
  }
  if (auto offset = request.Query("offset")) {
    std::optional<int64_t> n = pipeline::ParseInt64(*offset);
    if (!n || *n < 0) {
      errors.push_back({"offset", "must be an integer >= 0"});
    } else {
      page.offset = *n;
    }
  }
  if (!errors.empty()) return ValidationErrorResponse(errors);
  return page;
}

HttpResponse ListResponse(nlohmann::json items, int64_t total, const Page& page) {
  nlohmann::json body = {{"data", std::move(items)},
                         {"pagination",
                          {{"total", total},
                           {"limit", page.limit},
                           {"offset", page.offset},
                           {"has_more", page.offset + page.limit < total}}}};
  return JsonResponse(200, DumpJson(body));
}

}  // namespace auri::api
