// API keys: POST|GET /organizations/{id}/api-keys, GET|PATCH|DELETE /api-keys/{id},
// POST /api-keys/{id}/rotate. Managing keys needs Access::kManage (role admin+, or a key holding
// `admin`), so a key without admin cannot mint keys, and no key can grant more than admin, which
// it already holds. The secret is returned only by create and rotate; list and get never show it
// or its hash.
#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/account_handlers.h"
#include "api/authenticator.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "auth/api_key.h"
#include "common/clock.h"
#include "common/logging.h"
#include "store/api_key_repository.h"

namespace auri::api {
namespace {

using nlohmann::json;

constexpr int64_t kMaxRateLimitOverride = 2147483647;  // the column is integer
constexpr int kPrefixCollisionRetries = 3;

json Nullable(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

json KeyJson(const ApiKeyRecord& k) {
  return {
      {"id", k.id},
      {"organization_id", k.organization_id},
      {"name", k.name},
      {"prefix", k.prefix},
      {"environment", k.environment},
      {"permissions", k.permissions},
      {"rate_limit_override", k.rate_limit_override ? json(*k.rate_limit_override) : json(nullptr)},
      {"created_by", Nullable(k.created_by)},
      {"created_at", k.created_at},
      {"updated_at", k.updated_at},
      {"last_used_at", Nullable(k.last_used_at)},
      {"expires_at", Nullable(k.expires_at)},
      {"revoked_at", Nullable(k.revoked_at)},
      {"revocation_reason", Nullable(k.revocation_reason)}};
}

AuditContext AuditOf(const HttpRequest& request) {
  AuditContext audit;
  if (request.caller.kind == CallerKind::kUser) audit.user_id = request.caller.user_id;
  audit.ip = request.client_ip;
  audit.endpoint = request.path;
  return audit;
}

// permissions: a non-empty array of distinct names from {read, write, delete, admin}; returned
// in canonical order.
std::optional<std::vector<std::string>> ReadPermissions(FieldReader& fields, bool required) {
  const json* raw = fields.Raw("permissions", required);
  if (!raw) return std::nullopt;
  const char* kMessage = "must be a non-empty array of: read, write, delete, admin";
  if (!raw->is_array() || raw->empty() || raw->size() > 4) {
    fields.Fail("permissions", kMessage);
    return std::nullopt;
  }
  std::vector<std::string> names;
  for (const json& item : *raw) {
    if (!item.is_string()) {
      fields.Fail("permissions", kMessage);
      return std::nullopt;
    }
    names.push_back(item.get<std::string>());
  }
  Result<ApiKeyPermissions> parsed = ApiKeyPermissions::Parse(names);
  if (!parsed.ok()) {
    fields.Fail("permissions", kMessage);
    return std::nullopt;
  }
  return parsed.value().Names();
}

// expires_at: RFC 3339 in the future, or null (never expires). The outer optional is unset when
// the field is absent (or invalid: then an error is recorded).
std::optional<std::optional<int64_t>> ReadExpiry(FieldReader& fields, const GatewayDeps& deps) {
  if (!fields.Has("expires_at")) return std::nullopt;
  if (fields.IsNull("expires_at")) return std::optional<int64_t>();
  std::optional<std::string> text = fields.String("expires_at", false, 1, 40);
  if (!text) return std::nullopt;
  std::optional<int64_t> ms = ParseRfc3339Ms(*text);
  if (!ms) {
    fields.Fail("expires_at", "must be an RFC 3339 timestamp like 2027-01-31T00:00:00Z");
    return std::nullopt;
  }
  if (*ms <= deps.clock->UnixMillis()) {
    fields.Fail("expires_at", "must be in the future");
    return std::nullopt;
  }
  return std::optional<int64_t>(*ms);
}

std::optional<std::optional<int64_t>> ReadRateLimit(FieldReader& fields) {
  if (!fields.Has("rate_limit_override")) return std::nullopt;
  if (fields.IsNull("rate_limit_override")) return std::optional<int64_t>();
  std::optional<int64_t> n = fields.Int("rate_limit_override", false, 1, kMaxRateLimitOverride);
  if (!n) return std::nullopt;
  return std::optional<int64_t>(*n);
}

// Generates a key with the row's settings and stores it through `store` (insert or rotate),
// retrying on the rare prefix collision.
template <typename Store>
HttpResponse MintKey(const GatewayDeps& deps, const HttpRequest& request, NewApiKeyRow row,
                     Store store) {
  ApiKeyEnvironment env =
      row.environment == "test" ? ApiKeyEnvironment::kTest : ApiKeyEnvironment::kLive;
  for (int attempt = 0;; ++attempt) {
    Result<NewApiKey> key = GenerateApiKey(env, HashLimits(deps));
    if (!key.ok()) return ResponseFromStatus(key.status(), deps.logger, request.request_id);
    row.prefix = key->prefix;
    row.key_hash = key->hash;
    Result<ApiKeyRecord> stored = store(row);
    if (stored.ok()) {
      json data = KeyJson(stored.value());
      data["key"] = key->key;  // shown once, here
      return DataResponse(201, data);
    }
    if (stored.status().code() != StatusCode::kAlreadyExists ||
        attempt + 1 >= kPrefixCollisionRetries) {
      return ResponseFromStatus(stored.status(), deps.logger, request.request_id);
    }
  }
}

// The key named by the path and the caller's scope in its organization for `access`; 404 when
// the key does not exist or the caller is not in its organization (no existence leak).
std::variant<std::pair<ApiKeyRecord, OrgScope>, HttpResponse> KeyInScope(const GatewayDeps& deps,
                                                                         const HttpRequest& request,
                                                                         Access access) {
  HttpResponse not_found = ErrorResponse(404, "not_found", "api key not found");
  std::string id(request.PathParam("id"));
  if (!IsUuid(id)) return not_found;
  Result<std::optional<ApiKeyRecord>> key = GetApiKey(*deps.pool, id, kAccountAcquireTimeout);
  if (!key.ok()) return ResponseFromStatus(key.status(), deps.logger, request.request_id);
  if (!key.value()) return not_found;
  auto scope = ResolvePathScope(request, *deps.member_roles, key.value()->organization_id, access);
  if (auto* error = std::get_if<HttpResponse>(&scope)) {
    if (error->status == 404) return not_found;
    return std::move(*error);
  }
  return std::make_pair(std::move(*key.value()), std::get<OrgScope>(scope));
}

}  // namespace

HttpResponse HandleCreateApiKey(const GatewayDeps& deps, const HttpRequest& request) {
  auto scope =
      ResolvePathScope(request, *deps.member_roles, request.PathParam("id"), Access::kManage);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  pipeline::FieldErrors errors;
  FieldReader fields(std::get<json>(parsed), &errors);
  NewApiKeyRow row;
  row.organization_id = std::get<OrgScope>(scope).organization_id;
  std::optional<std::string> name = fields.String("name", true, 1, 255);
  std::optional<std::string> environment = fields.Enum("environment", false, {"live", "test"});
  std::optional<std::vector<std::string>> permissions = ReadPermissions(fields, false);
  std::optional<std::optional<int64_t>> rate = ReadRateLimit(fields);
  std::optional<std::optional<int64_t>> expiry = ReadExpiry(fields, deps);
  if (!errors.empty()) return ValidationErrorResponse(errors);
  row.name = *name;
  row.environment = environment.value_or("live");
  row.permissions = permissions.value_or(std::vector<std::string>{"read"});
  if (rate) row.rate_limit_override = *rate;
  if (expiry) row.expires_at_ms = *expiry;
  if (request.caller.kind == CallerKind::kUser) row.created_by = request.caller.user_id;
  AuditContext audit = AuditOf(request);
  return MintKey(deps, request, std::move(row), [&](const NewApiKeyRow& r) {
    return InsertApiKey(*deps.pool, r, audit, kAccountAcquireTimeout);
  });
}

HttpResponse HandleListApiKeys(const GatewayDeps& deps, const HttpRequest& request) {
  auto scope =
      ResolvePathScope(request, *deps.member_roles, request.PathParam("id"), Access::kManage);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  auto page = ParsePage(request);
  if (auto* error = std::get_if<HttpResponse>(&page)) return std::move(*error);
  const Page& p = std::get<Page>(page);
  Result<PageOf<ApiKeyRecord>> keys =
      ListApiKeys(*deps.pool, std::get<OrgScope>(scope).organization_id, p.limit, p.offset,
                  kAccountAcquireTimeout);
  if (!keys.ok()) return ResponseFromStatus(keys.status(), deps.logger, request.request_id);
  json items = json::array();
  for (const ApiKeyRecord& k : keys->items) items.push_back(KeyJson(k));
  return ListResponse(std::move(items), keys->total, p);
}

HttpResponse HandleGetApiKey(const GatewayDeps& deps, const HttpRequest& request) {
  auto found = KeyInScope(deps, request, Access::kManage);
  if (auto* error = std::get_if<HttpResponse>(&found)) return std::move(*error);
  return DataResponse(200, KeyJson(std::get<0>(found).first));
}

HttpResponse HandleUpdateApiKey(const GatewayDeps& deps, const HttpRequest& request) {
  auto found = KeyInScope(deps, request, Access::kManage);
  if (auto* error = std::get_if<HttpResponse>(&found)) return std::move(*error);
  const ApiKeyRecord& key = std::get<0>(found).first;
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  pipeline::FieldErrors errors;
  FieldReader fields(std::get<json>(parsed), &errors);
  ApiKeyUpdate update;
  update.name = fields.String("name", false, 1, 255);
  update.permissions = ReadPermissions(fields, false);
  update.rate_limit_override = ReadRateLimit(fields);
  update.expires_at_ms = ReadExpiry(fields, deps);
  if (errors.empty() && !update.name && !update.permissions && !update.rate_limit_override &&
      !update.expires_at_ms) {
    fields.Fail("body", "give at least one of name, permissions, rate_limit_override, expires_at");
  }
  if (!errors.empty()) return ValidationErrorResponse(errors);
  Result<std::optional<ApiKeyRecord>> updated =
      UpdateApiKey(*deps.pool, key.id, update, kAccountAcquireTimeout);
  if (!updated.ok()) return ResponseFromStatus(updated.status(), deps.logger, request.request_id);
  if (!updated.value()) return ErrorResponse(404, "not_found", "api key not found");
  // Cached verifications carry the old permissions: drop them.
  deps.authenticator->Forget(key.id);
  return DataResponse(200, KeyJson(*updated.value()));
}

HttpResponse HandleRevokeApiKey(const GatewayDeps& deps, const HttpRequest& request) {
  auto found = KeyInScope(deps, request, Access::kManage);
  if (auto* error = std::get_if<HttpResponse>(&found)) return std::move(*error);
  const ApiKeyRecord& key = std::get<0>(found).first;
  auto parsed = ParseJsonObject(request, /*allow_empty=*/true);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  pipeline::FieldErrors errors;
  FieldReader fields(std::get<json>(parsed), &errors);
  std::optional<std::string> reason = fields.String("reason", false, 0, 500);
  if (!errors.empty()) return ValidationErrorResponse(errors);
  Result<bool> revoked =
      RevokeApiKey(*deps.pool, key.id, reason, AuditOf(request), kAccountAcquireTimeout);
  if (!revoked.ok()) return ResponseFromStatus(revoked.status(), deps.logger, request.request_id);
  deps.authenticator->Forget(key.id);
  if (revoked.value()) {
    deps.logger->Info("api key revoked", {{"api_key_id", key.id},
                                          {"organization_id", key.organization_id},
                                          {"request_id", request.request_id}});
  }
  return NoContent();  // revoking a revoked key is a no-op
}

HttpResponse HandleRotateApiKey(const GatewayDeps& deps, const HttpRequest& request) {
  auto found = KeyInScope(deps, request, Access::kManage);
  if (auto* error = std::get_if<HttpResponse>(&found)) return std::move(*error);
  const ApiKeyRecord& old = std::get<0>(found).first;
  if (old.revoked_at) {
    return ErrorResponse(409, "conflict", "a revoked api key cannot be rotated");
  }
  NewApiKeyRow row;
  row.organization_id = old.organization_id;
  row.name = old.name;
  row.environment = old.environment;
  row.permissions = old.permissions;
  row.rate_limit_override = old.rate_limit_override;
  if (old.expires_at) row.expires_at_ms = ParseRfc3339Ms(*old.expires_at);
  if (request.caller.kind == CallerKind::kUser) row.created_by = request.caller.user_id;
  AuditContext audit = AuditOf(request);
  HttpResponse response = MintKey(deps, request, std::move(row), [&](const NewApiKeyRow& r) {
    return RotateApiKey(*deps.pool, old.id, r, audit, kAccountAcquireTimeout);
  });
  deps.authenticator->Forget(old.id);
  return response;
}

}  // namespace auri::api
