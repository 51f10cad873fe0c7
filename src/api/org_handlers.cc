// Organizations and members: /api/v1/organizations, /organizations/{id}[/transfer|/members…].
// Permissions come from api/access.h: a non-member (or a key of another organization) gets 404 on
// every /organizations/{id} path.
#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/account_handlers.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "api/member_role_cache.h"
#include "api/trigger_cache.h"
#include "common/logging.h"
#include "pipeline/text.h"
#include "store/organization_repository.h"

namespace auri::api {
namespace {

using nlohmann::json;

json Nullable(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

json OrganizationJson(const OrganizationRecord& o, const std::optional<std::string>& my_role) {
  return {{"id", o.id},
          {"name", o.name},
          {"slug", o.slug},
          {"description", Nullable(o.description)},
          {"plan", o.plan},
          {"is_personal", o.is_personal},
          {"created_at", o.created_at},
          {"updated_at", o.updated_at},
          {"my_role", Nullable(my_role)}};
}

json MemberJson(const MemberRecord& m) {
  return {{"user_id", m.user_id},
          {"username", m.username},
          {"email", m.email},
          {"role", m.role},
          {"joined_at", m.joined_at}};
}

std::optional<std::string> RoleOf(const OrgScope& scope) {
  if (!scope.role) return std::nullopt;
  return std::string(RoleName(*scope.role));
}

// ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ (length is checked by the reader).
bool IsValidSlug(std::string_view slug) {
  if (slug.empty() || slug.front() == '-' || slug.back() == '-') return false;
  for (char c : slug) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

HttpResponse NeedsUser() {
  return ErrorResponse(403, "forbidden",
                       "this route needs a user token (API keys act for an organization)");
}

HttpResponse Failed(const GatewayDeps& deps, const HttpRequest& request, const Status& status) {
  if (status.code() == StatusCode::kAlreadyExists &&
      status.message().find("slug") != std::string::npos) {
    return ErrorResponse(409, "slug_exists", status.message());
  }
  return ResponseFromStatus(status, deps.logger, request.request_id);
}

// The scope of /organizations/{id}/… for `access`, or the response to send.
std::variant<OrgScope, HttpResponse> PathScope(const GatewayDeps& deps, const HttpRequest& request,
                                               Access access) {
  return ResolvePathScope(request, *deps.member_roles, request.PathParam("id"), access);
}

// Reads a role to assign: admin | member | viewer. "owner" is refused with a hint.
std::optional<std::string> AssignableRole(FieldReader& fields, bool required) {
  std::optional<std::string> role =
      fields.Enum("role", required, {"owner", "admin", "member", "viewer"});
  if (role && *role == "owner") {
    fields.Fail("role",
                "cannot be owner: an organization has one owner; use POST "
                "/organizations/{id}/transfer");
    return std::nullopt;
  }
  return role;
}

}  // namespace

HttpResponse HandleCreateOrganization(const GatewayDeps& deps, const HttpRequest& request) {
  if (request.caller.kind != CallerKind::kUser) return NeedsUser();
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  pipeline::FieldErrors errors;
  FieldReader fields(std::get<json>(parsed), &errors);
  std::optional<std::string> name = fields.String("name", true, 1, 255);
  std::optional<std::string> slug = fields.String("slug", true, 1, 100);
  if (slug && !IsValidSlug(*slug)) {
    fields.Fail("slug",
                "must be lowercase letters, digits and '-', not starting or ending with '-'");
  }
  std::optional<std::string> description = fields.String("description", false, 0, 1000);
  if (!errors.empty()) return ValidationErrorResponse(errors);
  Result<OrganizationRecord> org = CreateOrganization(*deps.pool, request.caller.user_id, *name,
                                                      *slug, description, kAccountAcquireTimeout);
  if (!org.ok()) return Failed(deps, request, org.status());
  return DataResponse(201, OrganizationJson(org.value(), "owner"));
}

HttpResponse HandleListOrganizations(const GatewayDeps& deps, const HttpRequest& request) {
  if (request.caller.kind != CallerKind::kUser) return NeedsUser();
  auto page = ParsePage(request);
  if (auto* error = std::get_if<HttpResponse>(&page)) return std::move(*error);
  const Page& p = std::get<Page>(page);
  Result<PageOf<OrganizationRecord>> orgs = ListUserOrganizations(
      *deps.pool, request.caller.user_id, p.limit, p.offset, kAccountAcquireTimeout);
  if (!orgs.ok()) return Failed(deps, request, orgs.status());
  json items = json::array();
  for (const OrganizationRecord& o : orgs->items) items.push_back(OrganizationJson(o, o.my_role));
  return ListResponse(std::move(items), orgs->total, p);
}

HttpResponse HandleGetOrganization(const GatewayDeps& deps, const HttpRequest& request) {
  auto scope = PathScope(deps, request, Access::kRead);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  const OrgScope& s = std::get<OrgScope>(scope);
  Result<std::optional<OrganizationRecord>> org =
      GetOrganization(*deps.pool, s.organization_id, kAccountAcquireTimeout);
  if (!org.ok()) return Failed(deps, request, org.status());
  if (!org.value()) return ErrorResponse(404, "not_found", "organization not found");
  return DataResponse(200, OrganizationJson(*org.value(), RoleOf(s)));
}

HttpResponse HandleUpdateOrganization(const GatewayDeps& deps, const HttpRequest& request) {
  auto scope = PathScope(deps, request, Access::kManage);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  const OrgScope& s = std::get<OrgScope>(scope);
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  pipeline::FieldErrors errors;
  FieldReader fields(std::get<json>(parsed), &errors);
  OrganizationUpdate update;
  update.name = fields.String("name", false, 1, 255);
  update.slug = fields.String("slug", false, 1, 100);
  if (update.slug && !IsValidSlug(*update.slug)) {
    fields.Fail("slug",
                "must be lowercase letters, digits and '-', not starting or ending with '-'");
  }
  if (fields.IsNull("description")) {
    update.description = std::optional<std::string>();
  } else if (std::optional<std::string> d = fields.String("description", false, 0, 1000)) {
    update.description = d;
  }
  if (errors.empty() && !update.name && !update.slug && !update.description) {
    fields.Fail("body", "give at least one of name, slug, description");
  }
  if (!errors.empty()) return ValidationErrorResponse(errors);
  Result<std::optional<OrganizationRecord>> org =
      UpdateOrganization(*deps.pool, s.organization_id, update, kAccountAcquireTimeout);
  if (!org.ok()) return Failed(deps, request, org.status());
  if (!org.value()) return ErrorResponse(404, "not_found", "organization not found");
  return DataResponse(200, OrganizationJson(*org.value(), RoleOf(s)));
}

HttpResponse HandleDeleteOrganization(const GatewayDeps& deps, const HttpRequest& request) {
  auto scope = PathScope(deps, request, Access::kOwn);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  Status deleted = DeleteOrganization(*deps.pool, std::get<OrgScope>(scope).organization_id,
                                      kAccountAcquireTimeout);
  // Whatever the outcome (a failed commit may still have happened), no cached role of this
  // organization may outlive the call. The same holds for every membership change below.
  deps.member_roles->ForgetOrganization(std::get<OrgScope>(scope).organization_id);
  // Its triggers went with it (the cache is keyed by trigger, not organization: drop all).
  if (deps.trigger_cache) deps.trigger_cache->ForgetAll();
  if (!deleted.ok()) return Failed(deps, request, deleted);
  deps.logger->Info("organization deleted",
                    {{"organization_id", std::get<OrgScope>(scope).organization_id},
                     {"user_id", request.caller.user_id},
                     {"request_id", request.request_id}});
  return NoContent();
}

HttpResponse HandleTransferOrganization(const GatewayDeps& deps, const HttpRequest& request) {
  auto scope = PathScope(deps, request, Access::kOwn);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  const OrgScope& s = std::get<OrgScope>(scope);
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  pipeline::FieldErrors errors;
  FieldReader fields(std::get<json>(parsed), &errors);
  std::optional<std::string> new_owner = fields.String("new_owner_id", true, 36, 36);
  if (new_owner && !IsUuid(*new_owner)) fields.Fail("new_owner_id", "must be a UUID");
  if (!errors.empty()) return ValidationErrorResponse(errors);
  Status moved =
      TransferOwnership(*deps.pool, s.organization_id, *new_owner, kAccountAcquireTimeout);
  deps.member_roles->ForgetOrganization(s.organization_id);
  if (!moved.ok()) return Failed(deps, request, moved);
  Result<std::optional<OrganizationRecord>> org =
      GetOrganization(*deps.pool, s.organization_id, kAccountAcquireTimeout);
  if (!org.ok()) return Failed(deps, request, org.status());
  if (!org.value()) return ErrorResponse(404, "not_found", "organization not found");
  return DataResponse(200, OrganizationJson(*org.value(), std::string("admin")));
}

HttpResponse HandleAddMember(const GatewayDeps& deps, const HttpRequest& request) {
  auto scope = PathScope(deps, request, Access::kManage);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  const OrgScope& s = std::get<OrgScope>(scope);
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  pipeline::FieldErrors errors;
  FieldReader fields(std::get<json>(parsed), &errors);
  UserReference ref;
  ref.user_id = fields.String("user_id", false, 36, 36);
  if (ref.user_id && !IsUuid(*ref.user_id)) fields.Fail("user_id", "must be a UUID");
  ref.username = fields.String("username", false, 1, 50);
  ref.email = fields.String("email", false, 1, 320);
  int named = (fields.Has("user_id") && !fields.IsNull("user_id")) +
              (fields.Has("username") && !fields.IsNull("username")) +
              (fields.Has("email") && !fields.IsNull("email"));
  if (named != 1) fields.Fail("user", "give exactly one of user_id, username, email");
  std::optional<std::string> role = AssignableRole(fields, false);
  if (!errors.empty()) return ValidationErrorResponse(errors);

  Result<std::optional<std::string>> user_id =
      ResolveUserReference(*deps.pool, ref, kAccountAcquireTimeout);
  if (!user_id.ok()) return Failed(deps, request, user_id.status());
  if (!user_id.value()) return ErrorResponse(404, "not_found", "user not found");
  Result<MemberRecord> member = AddMember(*deps.pool, s.organization_id, *user_id.value(),
                                          role.value_or("member"), kAccountAcquireTimeout);
  if (!member.ok()) return Failed(deps, request, member.status());
  return DataResponse(201, MemberJson(member.value()));
}

HttpResponse HandleListMembers(const GatewayDeps& deps, const HttpRequest& request) {
  auto scope = PathScope(deps, request, Access::kRead);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  auto page = ParsePage(request);
  if (auto* error = std::get_if<HttpResponse>(&page)) return std::move(*error);
  const Page& p = std::get<Page>(page);
  Result<PageOf<MemberRecord>> members =
      ListMembers(*deps.pool, std::get<OrgScope>(scope).organization_id, p.limit, p.offset,
                  kAccountAcquireTimeout);
  if (!members.ok()) return Failed(deps, request, members.status());
  json items = json::array();
  for (const MemberRecord& m : members->items) items.push_back(MemberJson(m));
  return ListResponse(std::move(items), members->total, p);
}

HttpResponse HandleUpdateMember(const GatewayDeps& deps, const HttpRequest& request) {
  auto scope = PathScope(deps, request, Access::kOwn);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  std::string user_id(request.PathParam("user_id"));
  if (!IsUuid(user_id)) return ErrorResponse(404, "not_found", "member not found");
  auto parsed = ParseJsonObject(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  pipeline::FieldErrors errors;
  FieldReader fields(std::get<json>(parsed), &errors);
  std::optional<std::string> role = AssignableRole(fields, true);
  if (!errors.empty()) return ValidationErrorResponse(errors);
  Result<std::optional<MemberRecord>> member =
      UpdateMemberRole(*deps.pool, std::get<OrgScope>(scope).organization_id, user_id, *role,
                       kAccountAcquireTimeout);
  deps.member_roles->ForgetOrganization(std::get<OrgScope>(scope).organization_id);
  if (!member.ok()) return Failed(deps, request, member.status());
  if (!member.value()) return ErrorResponse(404, "not_found", "member not found");
  return DataResponse(200, MemberJson(*member.value()));
}

HttpResponse HandleRemoveMember(const GatewayDeps& deps, const HttpRequest& request) {
  std::string user_id(request.PathParam("user_id"));
  // Leaving an organization needs no admin rights; removing someone else does.
  bool self = request.caller.kind == CallerKind::kUser &&
              pipeline::AsciiLower(user_id) == request.caller.user_id;
  auto scope = PathScope(deps, request, self ? Access::kRead : Access::kManage);
  if (auto* error = std::get_if<HttpResponse>(&scope)) return std::move(*error);
  if (!IsUuid(user_id)) return ErrorResponse(404, "not_found", "member not found");
  Result<bool> removed = RemoveMember(*deps.pool, std::get<OrgScope>(scope).organization_id,
                                      user_id, kAccountAcquireTimeout);
  deps.member_roles->ForgetOrganization(std::get<OrgScope>(scope).organization_id);
  if (!removed.ok()) return Failed(deps, request, removed.status());
  if (!removed.value()) return ErrorResponse(404, "not_found", "member not found");
  return NoContent();
}

}  // namespace auri::api
