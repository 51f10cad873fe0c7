#pragma once
// Organizations and their members (spec 10-api.md, "Organizations and roles"). Who may do what is
// decided by api/access.h before these are called; these keep the rows consistent (one owner,
// personal organizations kept, slugs unique) in single transactions.
//
// Every function: errors of ConnectionPool::Acquire; kUnavailable on a lost connection; kInternal
// otherwise (see store/pg_error.h); specific errors are listed per function. Ids passed in are
// canonical UUID text (the caller checks syntax). Thread-safe.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/pool.h"

namespace auri {

struct OrganizationRecord {
  std::string id;
  std::string name;
  std::string slug;
  std::optional<std::string> description;
  std::string plan;
  bool is_personal = false;
  std::string created_at;  // RFC 3339 UTC
  std::string updated_at;
  std::optional<std::string> my_role;  // the asking user's role, when listed for a user
};

template <typename T>
struct PageOf {
  std::vector<T> items;
  int64_t total = 0;
};

// Creates an organization (plan free) with `owner_id` as owner, in one transaction.
// Errors: kAlreadyExists when `slug` is taken.
Result<OrganizationRecord> CreateOrganization(ConnectionPool& pool, const std::string& owner_id,
                                              const std::string& name, const std::string& slug,
                                              const std::optional<std::string>& description,
                                              std::chrono::milliseconds timeout);

// The organizations `user_id` is a member of, with my_role, oldest first.
Result<PageOf<OrganizationRecord>> ListUserOrganizations(ConnectionPool& pool,
                                                         const std::string& user_id, int64_t limit,
                                                         int64_t offset,
                                                         std::chrono::milliseconds timeout);

Result<std::optional<OrganizationRecord>> GetOrganization(ConnectionPool& pool,
                                                          const std::string& organization_id,
                                                          std::chrono::milliseconds timeout);

// Fields to change; unset fields are kept. `description` set to nullopt inside clears it.
struct OrganizationUpdate {
  std::optional<std::string> name;
  std::optional<std::string> slug;
  std::optional<std::optional<std::string>> description;
};
// The updated organization, or nullopt when it does not exist. Errors: kAlreadyExists (slug).
Result<std::optional<OrganizationRecord>> UpdateOrganization(ConnectionPool& pool,
                                                             const std::string& organization_id,
                                                             const OrganizationUpdate& update,
                                                             std::chrono::milliseconds timeout);

// Deletes the organization and everything it owns (cascade). Errors: kNotFound; kFailedPrecondition
// for a personal organization.
Status DeleteOrganization(ConnectionPool& pool, const std::string& organization_id,
                          std::chrono::milliseconds timeout);

// Makes `new_owner_id` the owner and the current owner an admin, in one transaction.
// Errors: kFailedPrecondition when `new_owner_id` is not a member or already the owner.
Status TransferOwnership(ConnectionPool& pool, const std::string& organization_id,
                         const std::string& new_owner_id, std::chrono::milliseconds timeout);

struct MemberRecord {
  std::string user_id;
  std::string username;
  std::string email;
  std::string role;
  std::string joined_at;  // RFC 3339 UTC
};

// How a member to add is named: exactly one field is set.
struct UserReference {
  std::optional<std::string> user_id;
  std::optional<std::string> username;  // compared ignoring case
  std::optional<std::string> email;     // compared ignoring case
};

// The id of the active user named by `ref`, or nullopt.
Result<std::optional<std::string>> ResolveUserReference(ConnectionPool& pool,
                                                        const UserReference& ref,
                                                        std::chrono::milliseconds timeout);

// Adds `user_id` with `role` (not owner). Errors: kAlreadyExists when already a member.
Result<MemberRecord> AddMember(ConnectionPool& pool, const std::string& organization_id,
                               const std::string& user_id, const std::string& role,
                               std::chrono::milliseconds timeout);

// Members by role (owner first) then join time.
Result<PageOf<MemberRecord>> ListMembers(ConnectionPool& pool, const std::string& organization_id,
                                         int64_t limit, int64_t offset,
                                         std::chrono::milliseconds timeout);

Result<std::optional<MemberRecord>> GetMember(ConnectionPool& pool,
                                              const std::string& organization_id,
                                              const std::string& user_id,
                                              std::chrono::milliseconds timeout);

// Sets the role of a member who is not the owner (the row is locked and re-checked, so a
// concurrent transfer cannot be undone). nullopt when not a member. Errors: kFailedPrecondition
// when the member is the owner.
Result<std::optional<MemberRecord>> UpdateMemberRole(ConnectionPool& pool,
                                                     const std::string& organization_id,
                                                     const std::string& user_id,
                                                     const std::string& role,
                                                     std::chrono::milliseconds timeout);

// Removes a member who is not the owner. Returns false when not a member. Errors:
// kFailedPrecondition when the member is the owner.
Result<bool> RemoveMember(ConnectionPool& pool, const std::string& organization_id,
                          const std::string& user_id, std::chrono::milliseconds timeout);

}  // namespace auri
