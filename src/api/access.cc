#include "api/access.h"

#include "api/errors.h"
#include "api/member_role_cache.h"
#include "auth/api_key.h"

namespace auri::api {
namespace {

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string_view AccessName(Access access) {
  switch (access) {
    case Access::kRead:
      return "read";
    case Access::kWrite:
      return "write";
    case Access::kDelete:
      return "delete";
    case Access::kManage:
      return "admin";
    case Access::kOwn:
      return "owner";
  }
  return "?";
}

HttpResponse Forbidden(const OrgScope& scope, Access access) {
  if (scope.is_api_key) {
    return ErrorResponse(
        403, "forbidden",
        "this api key lacks the '" + std::string(AccessName(access)) + "' permission");
  }
  return ErrorResponse(403, "forbidden",
                       "this action needs the '" +
                           std::string(access == Access::kRead     ? "viewer"
                                       : access == Access::kManage ? "admin"
                                       : access == Access::kOwn    ? "owner"
                                                                   : "member") +
                           "' role or higher in the organization");
}

// The user's scope in `organization_id`, or nullopt when not a member.
Result<std::optional<OrgScope>> UserScope(MemberRoleCache& roles, const Caller& caller,
                                          const std::string& organization_id) {
  ASSIGN_OR_RETURN(std::optional<std::string> role, roles.Find(organization_id, caller.user_id));
  if (!role) return std::optional<OrgScope>();
  OrgScope scope;
  scope.organization_id = organization_id;
  scope.role = ParseRole(*role);
  return std::optional<OrgScope>(scope);
}

OrgScope KeyScope(const Caller& caller) {
  OrgScope scope;
  scope.organization_id = caller.organization_id;
  scope.permission_bits = caller.permission_bits;
  scope.is_api_key = true;
  return scope;
}

}  // namespace

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "owner") return Role::kOwner;
  if (name == "admin") return Role::kAdmin;
  if (name == "member") return Role::kMember;
  if (name == "viewer") return Role::kViewer;
  return std::nullopt;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOwner:
      return "owner";
    case Role::kAdmin:
      return "admin";
    case Role::kMember:
      return "member";
    case Role::kViewer:
      return "viewer";
  }
  return "viewer";
}

bool Allows(const OrgScope& scope, Access access) {
  if (scope.is_api_key) {
    auto has = [&](ApiKeyPermission p) {
      unsigned bit = static_cast<unsigned>(p);
      unsigned admin = static_cast<unsigned>(ApiKeyPermission::kAdmin);
      return (scope.permission_bits & bit) != 0 || (scope.permission_bits & admin) != 0;
    };
    switch (access) {
      case Access::kRead:
        return has(ApiKeyPermission::kRead);
      case Access::kWrite:
        return has(ApiKeyPermission::kWrite);
      case Access::kDelete:
        return has(ApiKeyPermission::kDelete);
      case Access::kManage:
        return has(ApiKeyPermission::kAdmin);
      case Access::kOwn:
        return false;
    }
    return false;
  }
  if (!scope.role) return false;
  Role needed = Role::kViewer;
  switch (access) {
    case Access::kRead:
      needed = Role::kViewer;
      break;
    case Access::kWrite:
    case Access::kDelete:
      needed = Role::kMember;
      break;
    case Access::kManage:
      needed = Role::kAdmin;
      break;
    case Access::kOwn:
      needed = Role::kOwner;
      break;
  }
  return static_cast<int>(*scope.role) >= static_cast<int>(needed);
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!IsHex(text[i])) {
      return false;
    }
  }
  return true;
}

std::variant<OrgScope, HttpResponse> ResolveHeaderScope(const HttpRequest& request,
                                                        MemberRoleCache& roles, Access access) {
  const Caller& caller = request.caller;
  OrgScope scope;
  if (caller.kind == CallerKind::kApiKey) {
    scope = KeyScope(caller);
  } else if (caller.kind == CallerKind::kUser) {
    std::optional<std::string_view> header = request.Header("X-Organization-ID");
    if (!header || header->empty()) {
      return ErrorResponse(400, "missing_organization",
                           "set the X-Organization-ID header to the organization to act in");
    }
    if (!IsUuid(*header)) {
      return ErrorResponse(400, "missing_organization", "X-Organization-ID must be a UUID");
    }
    Result<std::optional<OrgScope>> found = UserScope(roles, caller, std::string(*header));
    if (!found.ok()) return ResponseFromStatus(found.status());
    if (!found.value()) {
      return ErrorResponse(403, "forbidden", "you are not a member of this organization");
    }
    scope = *found.value();
  } else {
    return ErrorResponse(401, "unauthorized", "this route needs a user token or an api key");
  }
  if (!Allows(scope, access)) return Forbidden(scope, access);
  return scope;
}

std::variant<OrgScope, HttpResponse> ResolvePathScope(const HttpRequest& request,
                                                      MemberRoleCache& roles,
                                                      std::string_view organization_id,
                                                      Access access) {
  const Caller& caller = request.caller;
  HttpResponse not_found = ErrorResponse(404, "not_found", "organization not found");
  if (!IsUuid(organization_id)) return not_found;
  OrgScope scope;
  if (caller.kind == CallerKind::kApiKey) {
    // Ids are compared in canonical lower case: PostgreSQL prints uuids that way.
    std::string wanted(organization_id);
    for (char& c : wanted) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (wanted != caller.organization_id) return not_found;
    scope = KeyScope(caller);
  } else if (caller.kind == CallerKind::kUser) {
    Result<std::optional<OrgScope>> found = UserScope(roles, caller, std::string(organization_id));
    if (!found.ok()) return ResponseFromStatus(found.status());
    if (!found.value()) return not_found;
    scope = *found.value();
  } else {
    return ErrorResponse(401, "unauthorized", "this route needs a user token or an api key");
  }
  if (!Allows(scope, access)) return Forbidden(scope, access);
  return scope;
}

}  // namespace auri::api
