#pragma once
// Who may do what inside an organization (spec 10-api.md, "Organizations and roles"), decided in
// one place so every handler applies the same rules.
//
// Roles owner > admin > member > viewer: viewer reads; member also writes triggers, conditions,
// actions and circuit breakers; admin also manages the organization, members and API keys; owner
// also deletes the organization, changes roles and transfers ownership.
// API keys act for their organization with their own permissions: read → kRead, write → kWrite,
// delete → kDelete, admin → kManage (admin implies the others); no key can do kOwn.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "api/http.h"

namespace auri::api {

class MemberRoleCache;

enum class Access {
  kRead,    // any member; key permission read
  kWrite,   // member+ ; key permission write   (create/update triggers, conditions, actions)
  kDelete,  // member+ ; key permission delete  (delete triggers, conditions, actions)
  kManage,  // admin+  ; key permission admin   (organization settings, members, API keys)
  kOwn,     // owner   ; never an API key       (delete org, change roles, transfer ownership)
};

enum class Role { kViewer = 0, kMember = 1, kAdmin = 2, kOwner = 3 };

std::optional<Role> ParseRole(std::string_view name);  // "owner" | "admin" | "member" | "viewer"
std::string_view RoleName(Role role);

// The organization a request acts in and the caller's standing in it.
struct OrgScope {
  std::string organization_id;
  std::optional<Role> role;      // kUser: the caller's membership role
  unsigned permission_bits = 0;  // kApiKey: the key's permissions
  bool is_api_key = false;
};

// True when `scope` allows `access`.
bool Allows(const OrgScope& scope, Access access);

// The scope of a header-scoped route (triggers, events): for an API key its own organization; for
// a user the organization in X-Organization-ID, which must be a UUID (else 400
// missing_organization / validation_error) and one the user is a member of (else 403 forbidden).
// Then `access` is checked (403 forbidden naming what is missing). Other callers → 401.
// Database trouble → 503. A user's role comes from `roles` (api/member_role_cache.h: a removed or
// demoted member may keep the old role for up to its ttl unless this process made the change).
std::variant<OrgScope, HttpResponse> ResolveHeaderScope(const HttpRequest& request,
                                                        MemberRoleCache& roles, Access access);

// The scope of an organization path (/organizations/{id}/…): a user must be a member of
// `organization_id` and an API key must belong to it — otherwise 404 not_found (no existence
// leak). Then `access` is checked (403). A malformed id is 404 too.
std::variant<OrgScope, HttpResponse> ResolvePathScope(const HttpRequest& request,
                                                      MemberRoleCache& roles,
                                                      std::string_view organization_id,
                                                      Access access);

// True when `text` is a UUID in canonical 8-4-4-4-12 hex form (any case).
bool IsUuid(std::string_view text);

}  // namespace auri::api
