#include "api/authenticator.h"

#include <mutex>
#include <unordered_map>

#include "api/errors.h"
#include "auth/api_key.h"
#include "auth/jwt.h"
#include "common/logging.h"
#include "store/auth_repository.h"
#include "store/sha256.h"

namespace auri::api {
namespace {

// A key's "used" audit row is written at most this often per key (see the header).
constexpr std::chrono::seconds kUsedAuditInterval{60};

HttpResponse InvalidToken(std::string_view message) {
  return ErrorResponse(401, "invalid_token", message);
}

unsigned PermissionBits(const std::vector<std::string>& names) {
  Result<ApiKeyPermissions> parsed = ApiKeyPermissions::Parse(names);
  if (!parsed.ok()) return 0;  // the table's CHECK makes this unreachable; deny if it happens
  unsigned bits = 0;
  for (ApiKeyPermission p : {ApiKeyPermission::kRead, ApiKeyPermission::kWrite,
                             ApiKeyPermission::kDelete, ApiKeyPermission::kAdmin}) {
    if (parsed.value().Has(p)) bits |= static_cast<unsigned>(p);
  }
  return bits;
}

}  // namespace

struct Authenticator::State {
  AuthenticatorDeps deps;
  struct Cached {
    Caller caller;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex mu;
  std::unordered_map<std::string, Cached> verified;  // sha256(key) → caller
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> last_used_audit;

  void Audit(const std::string& key_id, const std::string& org_id, const char* event,
             const HttpRequest& request) {
    Status s = RecordApiKeyEvent(*deps.pool, key_id, org_id, event, request.client_ip, request.path,
                                 deps.acquire_timeout);
    if (!s.ok() && deps.logger) {
      deps.logger->Warn("could not write api key audit row",
                        {{"event", event}, {"error", s.ToString()}});
    }
  }

  void Failure(const char* type, const std::string& prefix, const HttpRequest& request) {
    Status s = RecordAuthFailure(*deps.pool, type, prefix, request.client_ip, request.path,
                                 deps.acquire_timeout);
    if (!s.ok() && deps.logger) {
      deps.logger->Warn("could not write auth failure row", {{"error", s.ToString()}});
    }
  }

  void MaybeAuditUse(const Caller& caller, const HttpRequest& request) {
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = last_used_audit.find(caller.api_key_id);
      if (it != last_used_audit.end() && now - it->second < kUsedAuditInterval) return;
      last_used_audit[caller.api_key_id] = now;
    }
    Audit(caller.api_key_id, caller.organization_id, "used", request);
  }

  std::optional<Caller> CachedCaller(const std::string& digest) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = verified.find(digest);
    if (it == verified.end()) return std::nullopt;
    if (it->second.expires <= std::chrono::steady_clock::now()) {
      verified.erase(it);
      return std::nullopt;
    }
    return it->second.caller;
  }

  void Remember(const std::string& digest, const Caller& caller) {
    std::lock_guard<std::mutex> lock(mu);
    // Bounded: a flood of distinct valid keys cannot grow memory without limit.
    if (verified.size() >= 10000) verified.clear();
    verified[digest] = {caller, std::chrono::steady_clock::now() + deps.api_key_cache_ttl};
  }

  std::variant<Caller, HttpResponse> AuthenticateApiKey(std::string_view key,
                                                        const HttpRequest& request) {
    Result<ParsedApiKey> parsed = ParseApiKey(key);
    if (!parsed.ok()) {
      Failure("malformed_api_key", "", request);
      return InvalidToken("malformed api key");
    }
    // The cache is keyed by a digest of the whole key: a hit proves possession of the key just
    // as the argon2id check did, and the key itself is never kept in memory.
    std::string digest = Sha256Hex(key);
    if (std::optional<Caller> cached = CachedCaller(digest)) {
      MaybeAuditUse(*cached, request);
      return *cached;
    }
    Result<std::optional<ApiKeyAuthRecord>> found =
        FindApiKeyByPrefix(*deps.pool, parsed.value().prefix, deps.acquire_timeout);
    if (!found.ok()) return ResponseFromStatus(found.status(), deps.logger, request.request_id);
    if (!found.value()) {
      DummyVerifyApiKey(deps.argon2_limits);  // same cost as a wrong key: no prefix oracle
      Failure("unknown_api_key", parsed.value().prefix, request);
      return InvalidToken("invalid api key");
    }
    const ApiKeyAuthRecord& record = *found.value();
    if (!VerifyApiKey(key, record.key_hash)) {
      Audit(record.id, record.organization_id, "auth_failed", request);
      return InvalidToken("invalid api key");
    }
    if (record.revoked || record.expired) {
      Audit(record.id, record.organization_id, "auth_failed", request);
      return InvalidToken(record.revoked ? "api key has been revoked" : "api key has expired");
    }
    Caller caller;
    caller.kind = CallerKind::kApiKey;
    caller.organization_id = record.organization_id;
    caller.organization_plan = record.organization_plan;
    caller.api_key_id = record.id;
    caller.permission_bits = PermissionBits(record.permissions);
    caller.rate_limit_override = record.rate_limit_override;
    Remember(digest, caller);
    MaybeAuditUse(caller, request);
    return caller;
  }
};

Authenticator::Authenticator(AuthenticatorDeps deps) : state_(std::make_unique<State>()) {
  state_->deps = std::move(deps);
}

Authenticator::~Authenticator() = default;

std::variant<Caller, HttpResponse> Authenticator::Authenticate(const HttpRequest& request) {
  Result<PresentedCredential> credential =
      ExtractCredential(request.Header("X-API-Key"), request.Header("Authorization"));
  if (!credential.ok()) return ErrorResponse(401, "unauthorized", credential.status().message());
  switch (credential.value().kind) {
    case CredentialKind::kNone:
      return ErrorResponse(401, "unauthorized",
                           "authentication required: send Authorization: Bearer <token> or "
                           "X-API-Key");
    case CredentialKind::kApiKey:
      return state_->AuthenticateApiKey(credential.value().value, request);
    case CredentialKind::kBearerToken:
      break;
  }
  std::string_view token = credential.value().value;
  if (state_->deps.ingest_token_valid && state_->deps.ingest_token_valid(token)) {
    Caller caller;
    caller.kind = CallerKind::kIngestToken;
    return caller;
  }
  if (!state_->deps.jwt) return InvalidToken("invalid token");
  Result<JwtClaims> claims = state_->deps.jwt->Verify(token);
  if (!claims.ok()) return InvalidToken(claims.status().message());
  Caller caller;
  caller.kind = CallerKind::kUser;
  caller.user_id = claims.value().sub;
  caller.username = claims.value().username;
  return caller;
}

void Authenticator::Forget(std::string_view api_key_id) {
  std::lock_guard<std::mutex> lock(state_->mu);
  for (auto it = state_->verified.begin(); it != state_->verified.end();) {
    if (it->second.caller.api_key_id == api_key_id) {
      it = state_->verified.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace auri::api
