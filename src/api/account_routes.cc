// Routes of users, sessions, organizations, members and API keys (spec 10-api.md,
// "Authentication", "Organizations and roles"), plus the helpers their handlers share.
#include <cstdio>

#include "api/account_handlers.h"
#include "config/config.h"

namespace auri::api {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Argon2Limits HashLimits(const GatewayDeps& deps) {
  if (deps.config) {
    if (std::optional<Argon2Limits> limits = Argon2LimitsByName(deps.config->auth.argon2)) {
      return *limits;
    }
  }
  return Argon2Limits::Interactive();
}

std::optional<int64_t> ParseRfc3339Ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || s.size() > 40) return std::nullopt;
  if (!Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &month) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1970 || month < 1 || month > 12 || day < 1 ||
      day > (month == 2 && !leap ? 28 : kDays[month - 1]) || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  if (seconds < 0) return std::nullopt;
  return seconds * 1000 + millis;
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

std::vector<Route> AccountRoutes(const GatewayDeps& deps) {
  struct Entry {
    const char* method;
    const char* pattern;
    HttpResponse (*handler)(const GatewayDeps&, const HttpRequest&);
    bool authenticated;
    const char* description;
  };
  static constexpr Entry kEntries[] = {
      {"POST", "/api/v1/auth/register", HandleRegister, false,
       "Create a user and its personal organization; returns an access and a refresh token."},
      {"POST", "/api/v1/auth/login", HandleLogin, false,
       "Exchange username or email and password for tokens (progressive lockout)."},
      {"POST", "/api/v1/auth/refresh", HandleRefresh, false,
       "Rotate a refresh token into a new token pair (reuse revokes the whole login)."},
      {"POST", "/api/v1/auth/logout", HandleLogout, true, "Revoke a refresh token."},
      {"GET", "/api/v1/auth/me", HandleMe, true,
       "The calling user with its organizations and roles."},
      {"POST", "/api/v1/organizations", HandleCreateOrganization, true,
       "Create an organization owned by the calling user."},
      {"GET", "/api/v1/organizations", HandleListOrganizations, true,
       "Organizations the calling user belongs to, with my_role."},
      {"GET", "/api/v1/organizations/{id}", HandleGetOrganization, true,
       "One organization (any member)."},
      {"PUT", "/api/v1/organizations/{id}", HandleUpdateOrganization, true,
       "Change an organization's name, slug or description (admin)."},
      {"DELETE", "/api/v1/organizations/{id}", HandleDeleteOrganization, true,
       "Delete an organization and everything it owns (owner; not personal ones)."},
      {"POST", "/api/v1/organizations/{id}/transfer", HandleTransferOrganization, true,
       "Make another member the owner; the old owner becomes admin (owner)."},
      {"POST", "/api/v1/organizations/{id}/members", HandleAddMember, true,
       "Add a user by user_id, username or email with a role below owner (admin)."},
      {"GET", "/api/v1/organizations/{id}/members", HandleListMembers, true,
       "Members of an organization (any member)."},
      {"PUT", "/api/v1/organizations/{id}/members/{user_id}", HandleUpdateMember, true,
       "Change a member's role (owner; never to or from owner)."},
      {"DELETE", "/api/v1/organizations/{id}/members/{user_id}", HandleRemoveMember, true,
       "Remove a member (admin, or the member itself); never the owner."},
      {"POST", "/api/v1/organizations/{id}/api-keys", HandleCreateApiKey, true,
       "Create an API key; the key is shown only in this response (admin)."},
      {"GET", "/api/v1/organizations/{id}/api-keys", HandleListApiKeys, true,
       "API keys of an organization, without secrets (admin)."},
      {"GET", "/api/v1/api-keys/{id}", HandleGetApiKey, true, "One API key, without its secret."},
      {"PATCH", "/api/v1/api-keys/{id}", HandleUpdateApiKey, true,
       "Change an API key's name, permissions, rate limit or expiry (admin)."},
      {"DELETE", "/api/v1/api-keys/{id}", HandleRevokeApiKey, true, "Revoke an API key (admin)."},
      {"POST", "/api/v1/api-keys/{id}/rotate", HandleRotateApiKey, true,
       "Replace an API key by a new one with the same settings; the old one is revoked (admin)."},
  };
  std::vector<Route> routes;
  for (const Entry& e : kEntries) {
    auto handler = e.handler;
    routes.push_back({.method = e.method,
                      .pattern = e.pattern,
                      .handler = [deps, handler](const HttpRequest& r) { return handler(deps, r); },
                      .authenticated = e.authenticated,
                      .rate_limited = true,
                      .description = e.description});
  }
  return routes;
}

}  // namespace auri::api
