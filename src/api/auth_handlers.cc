// POST /auth/register, /auth/login, /auth/refresh, /auth/logout and GET /auth/me.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "api/account_handlers.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "auth/jwt.h"
#include "auth/lockout.h"
#include "auth/refresh_token.h"
#include "common/clock.h"
#include "common/logging.h"
#include "pipeline/text.h"
#include "store/user_repository.h"

namespace auri::api {
namespace {

using nlohmann::json;

// Usernames: 3..50 characters of [A-Za-z0-9_.-], starting with a letter or digit. No '@', so
// login can tell a username from an email address; no spaces or look-alike Unicode, so two names
// that print the same are the same name (uniqueness also ignores case).
bool IsValidUsername(std::string_view name) {
  if (name.empty()) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

// A syntax check, not RFC 5322: one '@'; a local part of 1..64 printable non-space ASCII
// characters; a domain of dot-separated labels of [A-Za-z0-9-] (not starting or ending with '-')
// with at least one dot. Deliverability is not checked (no mail is sent).
bool IsPlausibleEmail(std::string_view email) {
  size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view local = email.substr(0, at), domain = email.substr(at + 1);
  if (local.empty() || local.size() > 64 || domain.size() < 3 || domain.size() > 253) return false;
  for (char c : local) {
    if (c <= ' ' || c >= 127) return false;
  }
  if (domain.find('.') == std::string_view::npos) return false;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// "<username-slug>-personal": the username lowercased, every run of characters outside [a-z0-9]
// turned into one '-', trimmed of '-' ("John.Doe_" → "john-doe-personal").
std::string PersonalSlug(std::string_view username) {
  std::string slug;
  for (char c : username) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool keep = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (keep) {
      slug += l;
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.empty()) slug = "user";
  return slug + "-personal";
}

json UserJson(const UserRecord& user) {
  return {{"id", user.id},
          {"username", user.username},
          {"email", user.email},
          {"created_at", user.created_at},
          {"last_login_at", user.last_login_at ? json(*user.last_login_at) : json(nullptr)}};
}

SessionOrigin OriginOf(const HttpRequest& request) {
  SessionOrigin origin;
  origin.ip = request.client_ip;
  if (auto ua = request.Header("User-Agent")) {
    // Cut on a UTF-8 boundary-agnostic byte count; the column is text, and invalid UTF-8 would be
    // refused by PostgreSQL, so keep printable ASCII only.
    for (char c : ua->substr(0, 256)) {
      if (c >= ' ' && c < 127) origin.user_agent += c;
    }
  }
  return origin;
}

NewRefreshToken NewTokenRow(const std::string& token, const GatewayDeps& deps) {
  return {HashRefreshToken(token), deps.clock->UnixMillis() + kRefreshTokenLifetimeMs};
}

// {token, refresh_token, token_type, expires_in[, user]} with `status`.
HttpResponse TokenResponse(const GatewayDeps& deps, const HttpRequest& request, int status,
                           const std::string& user_id, const std::string& username,
                           const std::string& refresh_token, const UserRecord* user) {
  Result<std::string> jwt =
      deps.jwt->Sign(NewAccessTokenClaims(user_id, username, deps.clock->UnixMillis()));
  if (!jwt.ok()) return ResponseFromStatus(jwt.status(), deps.logger, request.request_id);
  json body = {{"token", jwt.value()},
               {"refresh_token", refresh_token},
               {"token_type", "Bearer"},
               {"expires_in", kAccessTokenLifetimeSeconds}};
  if (user) body["user"] = UserJson(*user);
  return JsonResponse(status, DumpJson(body));
}

HttpResponse InvalidCredentials() {
  return ErrorResponse(401, "invalid_credentials", "invalid username, email or password");
}

HttpResponse AccountLocked(int64_t locked_until_ms, int64_t now_ms) {
  int64_t retry = std::max<int64_t>(1, RetryAfterSeconds(locked_until_ms, now_ms));
  HttpResponse r =
      ErrorResponse(429, "account_locked",
                    "too many failed logins; try again in " + std::to_string(retry) + " seconds",
                    DumpJson(json{{"retry_after_seconds", retry}}));
  r.headers.Set("Retry-After", std::to_string(retry));
  return r;
}

HttpResponse NeedsUser() {
  return ErrorResponse(403, "forbidden",
                       "this route needs a user token (API keys act for an organization)");
}

HttpResponse InvalidRefreshToken(std::string_view why) {
  return ErrorResponse(401, "invalid_token", why);
}

}  // namespace

HttpResponse HandleRegister(const GatewayDeps& deps, const HttpRequest& request) {
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  const json& body = std::get<json>(parsed);
  pipeline::FieldErrors errors;
  FieldReader fields(body, &errors);
  std::optional<std::string> username = fields.String("username", true, 3, 50);
  if (username && !IsValidUsername(*username)) {
    fields.Fail("username",
                "may contain only letters, digits, '_', '.' and '-', and must start with a letter "
                "or digit");
  }
  std::optional<std::string> email = fields.String("email", true, 3, 320);
  if (email && !IsPlausibleEmail(*email)) {
    fields.Fail("email", "must be an email address like name@example.com");
  }
  std::optional<std::string> password = fields.String("password", true, 0, kMaxPasswordChars * 4);
  if (password) {
    for (std::string& message : CheckPasswordPolicy(*password)) {
      fields.Fail("password", std::move(message));
    }
  }
  if (!errors.empty()) return ValidationErrorResponse(errors);

  auto conflict = [](RegisterOutcome outcome) {
    return outcome == RegisterOutcome::kEmailTaken
               ? ErrorResponse(409, "email_exists", "an account with this email already exists")
               : ErrorResponse(409, "username_exists", "this username is already taken");
  };
  // Cheap check first so a taken name does not cost an Argon2 hash; RegisterUser checks again.
  Result<RegisterOutcome> available =
      CheckRegistrationAvailable(*deps.pool, *username, *email, kAccountAcquireTimeout);
  if (!available.ok()) {
    return ResponseFromStatus(available.status(), deps.logger, request.request_id);
  }
  if (available.value() != RegisterOutcome::kCreated) return conflict(available.value());

  Result<std::string> hash = HashPassword(*password, HashLimits(deps));
  if (!hash.ok()) return ResponseFromStatus(hash.status(), deps.logger, request.request_id);
  std::string refresh = GenerateRefreshToken();
  Registration registration{.username = *username,
                            .email = *email,
                            .password_hash = hash.value(),
                            .organization_name = *username + "'s Personal",
                            .organization_slug = PersonalSlug(*username),
                            .refresh_token = NewTokenRow(refresh, deps),
                            .origin = OriginOf(request)};
  Result<RegisterResult> registered =
      RegisterUser(*deps.pool, registration, kAccountAcquireTimeout);
  if (!registered.ok()) {
    return ResponseFromStatus(registered.status(), deps.logger, request.request_id);
  }
  if (registered->outcome != RegisterOutcome::kCreated) return conflict(registered->outcome);
  const UserRecord& user = registered->user;
  deps.logger->Info("user registered", {{"user_id", user.id}, {"request_id", request.request_id}});
  return TokenResponse(deps, request, 201, user.id, user.username, refresh, &user);
}

HttpResponse HandleLogin(const GatewayDeps& deps, const HttpRequest& request) {
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  const json& body = std::get<json>(parsed);
  pipeline::FieldErrors errors;
  FieldReader fields(body, &errors);
  std::optional<std::string> name = fields.String("username_or_email", true, 1, 320);
  std::optional<std::string> password = fields.String("password", true, 1, kMaxPasswordChars * 4);
  if (!errors.empty()) return ValidationErrorResponse(errors);

  const Argon2Limits limits = HashLimits(deps);
  bool by_email = name->find('@') != std::string::npos;  // usernames cannot contain '@'
  Result<std::optional<UserRecord>> found =
      FindUserByLogin(*deps.pool, *name, by_email, kAccountAcquireTimeout);
  if (!found.ok()) return ResponseFromStatus(found.status(), deps.logger, request.request_id);
  if (!found.value()) {
    // Same work and the same answer as a wrong password: no user-existence oracle.
    DummyVerify(limits);
    return InvalidCredentials();
  }
  const UserRecord& user = *found.value();
  int64_t now_ms = deps.clock->UnixMillis();
  // While locked the password is not even checked, so guessing cannot continue during the lock.
  if (user.locked_until_ms && *user.locked_until_ms > now_ms) {
    return AccountLocked(*user.locked_until_ms, now_ms);
  }
  if (!VerifyPassword(*password, user.password_hash)) {
    Result<LoginFailure> failure = RecordLoginFailure(
        *deps.pool, user.id, [now_ms](int n) { return LockedUntilMs(n, now_ms); },
        kAccountAcquireTimeout);
    if (!failure.ok()) return ResponseFromStatus(failure.status(), deps.logger, request.request_id);
    if (failure->locked_until_ms) {
      deps.logger->Warn("account locked after failed logins", {{"user_id", user.id},
                                                               {"failures", failure->failures},
                                                               {"request_id", request.request_id}});
      return AccountLocked(*failure->locked_until_ms, now_ms);
    }
    return InvalidCredentials();
  }
  if (!user.is_active) return InvalidCredentials();

  std::optional<std::string> rehashed;
  if (NeedsRehash(user.password_hash, limits)) {
    Result<std::string> hash = HashPassword(*password, limits);
    if (hash.ok()) {
      rehashed = hash.value();
    } else {
      deps.logger->Warn("could not rehash a password",
                        {{"user_id", user.id}, {"error", hash.status().ToString()}});
    }
  }
  std::string refresh = GenerateRefreshToken();
  Result<UserRecord> updated =
      RecordLoginSuccess(*deps.pool, user.id, rehashed, NewTokenRow(refresh, deps),
                         OriginOf(request), kMaxLiveSessions, kAccountAcquireTimeout);
  if (!updated.ok()) return ResponseFromStatus(updated.status(), deps.logger, request.request_id);
  return TokenResponse(deps, request, 200, user.id, user.username, refresh, &updated.value());
}

HttpResponse HandleRefresh(const GatewayDeps& deps, const HttpRequest& request) {
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  const json& body = std::get<json>(parsed);
  pipeline::FieldErrors errors;
  FieldReader fields(body, &errors);
  std::optional<std::string> token = fields.String("refresh_token", true, 1, 256);
  if (!errors.empty()) return ValidationErrorResponse(errors);
  if (!IsWellFormedRefreshToken(*token)) return InvalidRefreshToken("invalid refresh token");

  std::string next = GenerateRefreshToken();
  Result<RefreshResult> result =
      RotateSession(*deps.pool, HashRefreshToken(*token), NewTokenRow(next, deps),
                    OriginOf(request), kMaxLiveSessions, kAccountAcquireTimeout);
  if (!result.ok()) return ResponseFromStatus(result.status(), deps.logger, request.request_id);
  switch (result->outcome) {
    case RefreshOutcome::kRotated:
      return TokenResponse(deps, request, 200, result->user_id, result->username, next, nullptr);
    case RefreshOutcome::kReuseDetected:
      deps.logger->Warn("refresh token reused; the whole login was revoked",
                        {{"user_id", result->user_id}, {"request_id", request.request_id}});
      return InvalidRefreshToken(
          "refresh token was already used; every session of this login has been revoked");
    case RefreshOutcome::kExpired:
      return InvalidRefreshToken("refresh token has expired");
    case RefreshOutcome::kRevoked:
      return InvalidRefreshToken("refresh token has been revoked");
    case RefreshOutcome::kUnknown:
      break;
  }
  return InvalidRefreshToken("invalid refresh token");
}

HttpResponse HandleLogout(const GatewayDeps& deps, const HttpRequest& request) {
  if (request.caller.kind != CallerKind::kUser) return NeedsUser();
  auto parsed = ParseJsonObject(request, /*allow_empty=*/true);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  const json& body = std::get<json>(parsed);
  pipeline::FieldErrors errors;
  FieldReader fields(body, &errors);
  std::optional<std::string> token = fields.String("refresh_token", false, 1, 256);
  if (token && !IsWellFormedRefreshToken(*token)) {
    fields.Fail("refresh_token", "is not a refresh token (urt_ + 43 characters)");
  }
  if (!errors.empty()) return ValidationErrorResponse(errors);
  if (token) {
    // A token of another user is left alone, with the same answer: no oracle for others' tokens.
    Result<bool> revoked = RevokeSession(*deps.pool, request.caller.user_id,
                                         HashRefreshToken(*token), kAccountAcquireTimeout);
    if (!revoked.ok()) return ResponseFromStatus(revoked.status(), deps.logger, request.request_id);
  }
  return NoContent();
}

HttpResponse HandleMe(const GatewayDeps& deps, const HttpRequest& request) {
  if (request.caller.kind != CallerKind::kUser) return NeedsUser();
  Result<std::optional<UserProfile>> profile =
      LoadUserProfile(*deps.pool, request.caller.user_id, kAccountAcquireTimeout);
  if (!profile.ok()) return ResponseFromStatus(profile.status(), deps.logger, request.request_id);
  if (!profile.value()) return ErrorResponse(401, "invalid_token", "the user no longer exists");
  json body = UserJson(profile.value()->user);
  json orgs = json::array();
  for (const MembershipSummary& m : profile.value()->organizations) {
    orgs.push_back(
        {{"id", m.organization_id}, {"name", m.name}, {"slug", m.slug}, {"role", m.role}});
  }
  body["organizations"] = std::move(orgs);
  // Unwrapped, as the spec shows it (and DR checks read `.id`): see docs/decisions.md.
  return JsonResponse(200, DumpJson(body));
}

}  // namespace auri::api
