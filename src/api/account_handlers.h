#pragma once
// Handlers of the account routes (spec 10-api.md, "Authentication", "Organizations and roles"),
// declared once here and put in the route table by account_routes.cc. Internal to src/api.
//
// Every handler: answers with the JSON shapes of the spec, never throws on bad input (4xx JSON),
// turns store failures into ResponseFromStatus (503 when the database is unreachable), and decides
// permissions only through api/access.h. `deps` must have pool, authenticator, jwt, config, clock
// and logger set.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "api/http.h"
#include "api/routes.h"
#include "auth/password.h"

namespace auri::api {

// How long a handler waits for a pooled connection (statements are bounded by
// statement_timeout).
inline constexpr std::chrono::milliseconds kAccountAcquireTimeout{2000};
// Sessions (refresh tokens): 30-day life, at most 10 live per user (spec).
inline constexpr int64_t kRefreshTokenLifetimeMs = int64_t{30} * 24 * 3600 * 1000;
inline constexpr int kMaxLiveSessions = 10;

// The Argon2id limits of `auth.argon2` (interactive when unset or unknown).
Argon2Limits HashLimits(const GatewayDeps& deps);

// Unix ms of an RFC 3339 timestamp with an explicit offset ("2027-01-31T12:00:00Z",
// "…T12:00:00.250+02:00"); nullopt when malformed or out of range (years 1970..9999).
std::optional<int64_t> ParseRfc3339Ms(std::string_view text);

// 204 with no body.
HttpResponse NoContent();

// /api/v1/auth/*
HttpResponse HandleRegister(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleLogin(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleRefresh(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleLogout(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleMe(const GatewayDeps& deps, const HttpRequest& request);

// /api/v1/organizations/* (organizations and members)
HttpResponse HandleCreateOrganization(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleListOrganizations(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleGetOrganization(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleUpdateOrganization(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleDeleteOrganization(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleTransferOrganization(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleAddMember(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleListMembers(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleUpdateMember(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleRemoveMember(const GatewayDeps& deps, const HttpRequest& request);

// /api/v1/organizations/{id}/api-keys and /api/v1/api-keys/*
HttpResponse HandleCreateApiKey(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleListApiKeys(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleGetApiKey(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleUpdateApiKey(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleRevokeApiKey(const GatewayDeps& deps, const HttpRequest& request);
HttpResponse HandleRotateApiKey(const GatewayDeps& deps, const HttpRequest& request);

}  // namespace auri::api
