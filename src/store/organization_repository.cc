#include "store/organization_repository.h"

#include <pqxx/pqxx>

#include "store/pg_error.h"
#include "store/sql_text.h"

namespace auri {
namespace {

using store_internal::Rfc3339Sql;

// Columns OrganizationFromRow reads (organizations aliased as o); my_role is appended by callers
// that have it.
std::string OrganizationColumns() {
  return "o.id::text, o.name, o.slug, o.description, o.plan, o.is_personal, " +
         Rfc3339Sql("o.created_at") + ", " + Rfc3339Sql("o.updated_at");
}

OrganizationRecord OrganizationFromRow(const pqxx::row& r, bool with_role) {
  OrganizationRecord o;
  o.id = r[0].as<std::string>();
  o.name = r[1].as<std::string>();
  o.slug = r[2].as<std::string>();
  if (!r[3].is_null()) o.description = r[3].as<std::string>();
  o.plan = r[4].as<std::string>();
  o.is_personal = r[5].as<bool>();
  o.created_at = r[6].as<std::string>();
  o.updated_at = r[7].as<std::string>();
  if (with_role && !r[8].is_null()) o.my_role = r[8].as<std::string>();
  return o;
}

std::string MemberColumns() {
  return "u.id::text, u.username, u.email, m.role, " + Rfc3339Sql("m.created_at");
}

MemberRecord MemberFromRow(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
          r[3].as<std::string>(), r[4].as<std::string>()};
}

Status SlugTaken() { return AlreadyExists("slug is already taken", "choose another slug"); }

}  // namespace

Result<OrganizationRecord> CreateOrganization(ConnectionPool& pool, const std::string& owner_id,
                                              const std::string& name, const std::string& slug,
                                              const std::optional<std::string>& description,
                                              std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::row r = tx.exec_params1(
        "INSERT INTO organizations AS o (name, slug, description) "
        "VALUES ($1, $2, $3) RETURNING " +
            OrganizationColumns() + ", 'owner'",
        name, slug, description);
    OrganizationRecord org = OrganizationFromRow(r, true);
    tx.exec_params(
        "INSERT INTO organization_members (organization_id, user_id, role) "
        "VALUES ($1, $2, 'owner')",
        org.id, owner_id);
    tx.commit();
    return org;
  } catch (const pqxx::unique_violation&) {
    return SlugTaken();
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "creating an organization");
  }
}

Result<PageOf<OrganizationRecord>> ListUserOrganizations(ConnectionPool& pool,
                                                         const std::string& user_id, int64_t limit,
                                                         int64_t offset,
                                                         std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    PageOf<OrganizationRecord> page;
    page.total = tx.exec_params1(
                       "SELECT count(*) FROM organization_members WHERE user_id = "
                       "$1::uuid",
                       user_id)[0]
                     .as<int64_t>();
    pqxx::result rows = tx.exec_params(
        "SELECT " + OrganizationColumns() +
            ", m.role FROM organization_members m JOIN organizations o ON o.id = "
            "m.organization_id WHERE m.user_id = $1::uuid ORDER BY o.created_at, o.id "
            "LIMIT $2 OFFSET $3",
        user_id, limit, offset);
    for (const pqxx::row& r : rows) page.items.push_back(OrganizationFromRow(r, true));
    return page;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "listing organizations");
  }
}

Result<std::optional<OrganizationRecord>> GetOrganization(ConnectionPool& pool,
                                                          const std::string& organization_id,
                                                          std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    pqxx::result rows = tx.exec_params(
        "SELECT " + OrganizationColumns() + " FROM organizations o WHERE o.id = $1::uuid",
        organization_id);
    if (rows.empty()) return std::optional<OrganizationRecord>();
    return std::optional<OrganizationRecord>(OrganizationFromRow(rows[0], false));
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "reading an organization");
  }
}

Result<std::optional<OrganizationRecord>> UpdateOrganization(ConnectionPool& pool,
                                                             const std::string& organization_id,
                                                             const OrganizationUpdate& update,
                                                             std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    std::optional<std::string> description;
    if (update.description) description = *update.description;
    pqxx::result rows = tx.exec_params(
        "UPDATE organizations AS o SET name = coalesce($2, name), slug = coalesce($3, slug), "
        "description = CASE WHEN $4 THEN $5 ELSE description END WHERE id = $1::uuid "
        "RETURNING " +
            OrganizationColumns(),
        organization_id, update.name, update.slug, update.description.has_value(), description);
    tx.commit();
    if (rows.empty()) return std::optional<OrganizationRecord>();
    return std::optional<OrganizationRecord>(OrganizationFromRow(rows[0], false));
  } catch (const pqxx::unique_violation&) {
    return SlugTaken();
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "updating an organization");
  }
}

Status DeleteOrganization(ConnectionPool& pool, const std::string& organization_id,
                          std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::result rows = tx.exec_params(
        "SELECT is_personal FROM organizations WHERE id = $1::uuid FOR UPDATE", organization_id);
    if (rows.empty()) return NotFound("organization not found");
    if (rows[0][0].as<bool>()) {
      return FailedPrecondition("a personal organization cannot be deleted",
                                "create another organization for shared work instead");
    }
    tx.exec_params("DELETE FROM organizations WHERE id = $1::uuid", organization_id);
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "deleting an organization");
  }
}

Status TransferOwnership(ConnectionPool& pool, const std::string& organization_id,
                         const std::string& new_owner_id, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    // Lock every membership row of the organization: a concurrent role change or removal then
    // waits and sees the result.
    pqxx::result rows = tx.exec_params(
        "SELECT user_id::text, role FROM organization_members WHERE organization_id = $1::uuid "
        "FOR UPDATE",
        organization_id);
    std::optional<std::string> target_role;
    for (const pqxx::row& r : rows) {
      if (r[0].as<std::string>() == new_owner_id) target_role = r[1].as<std::string>();
    }
    if (!target_role) {
      return FailedPrecondition("the new owner must be a member of the organization",
                                "add the user as a member first");
    }
    if (*target_role == "owner") return FailedPrecondition("that user is already the owner");
    // Demote first: the unique index allows one owner at any moment; the deferred trigger checks
    // at commit that there is one.
    tx.exec_params(
        "UPDATE organization_members SET role = 'admin' WHERE organization_id = "
        "$1::uuid AND role = 'owner'",
        organization_id);
    tx.exec_params(
        "UPDATE organization_members SET role = 'owner' WHERE organization_id = "
        "$1::uuid AND user_id = $2::uuid",
        organization_id, new_owner_id);
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "transferring ownership");
  }
}

Result<std::optional<std::string>> ResolveUserReference(ConnectionPool& pool,
                                                        const UserReference& ref,
                                                        std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    pqxx::result rows;
    if (ref.user_id) {
      rows = tx.exec_params("SELECT id::text FROM users WHERE id = $1::uuid AND is_active",
                            *ref.user_id);
    } else if (ref.username) {
      rows = tx.exec_params(
          "SELECT id::text FROM users WHERE lower(username) = lower($1) AND is_active",
          *ref.username);
    } else if (ref.email) {
      rows = tx.exec_params(
          "SELECT id::text FROM users WHERE lower(email) = lower($1) AND is_active", *ref.email);
    }
    if (rows.empty()) return std::optional<std::string>();
    return std::optional<std::string>(rows[0][0].as<std::string>());
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "looking up a user");
  }
}

Result<MemberRecord> AddMember(ConnectionPool& pool, const std::string& organization_id,
                               const std::string& user_id, const std::string& role,
                               std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    tx.exec_params(
        "INSERT INTO organization_members (organization_id, user_id, role) "
        "VALUES ($1::uuid, $2::uuid, $3)",
        organization_id, user_id, role);
    pqxx::row r =
        tx.exec_params1("SELECT " + MemberColumns() +
                            " FROM organization_members m JOIN users u ON u.id = m.user_id "
                            "WHERE m.organization_id = $1::uuid AND m.user_id = $2::uuid",
                        organization_id, user_id);
    tx.commit();
    return MemberFromRow(r);
  } catch (const pqxx::unique_violation&) {
    return AlreadyExists("that user is already a member of the organization");
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "adding a member");
  }
}

Result<PageOf<MemberRecord>> ListMembers(ConnectionPool& pool, const std::string& organization_id,
                                         int64_t limit, int64_t offset,
                                         std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    PageOf<MemberRecord> page;
    page.total = tx.exec_params1(
                       "SELECT count(*) FROM organization_members WHERE "
                       "organization_id = $1::uuid",
                       organization_id)[0]
                     .as<int64_t>();
    pqxx::result rows =
        tx.exec_params("SELECT " + MemberColumns() +
                           " FROM organization_members m JOIN users u ON u.id = m.user_id "
                           "WHERE m.organization_id = $1::uuid ORDER BY array_position("
                           "ARRAY['owner','admin','member','viewer'], m.role), m.created_at, u.id "
                           "LIMIT $2 OFFSET $3",
                       organization_id, limit, offset);
    for (const pqxx::row& r : rows) page.items.push_back(MemberFromRow(r));
    return page;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "listing members");
  }
}

Result<std::optional<MemberRecord>> GetMember(ConnectionPool& pool,
                                              const std::string& organization_id,
                                              const std::string& user_id,
                                              std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    pqxx::result rows =
        tx.exec_params("SELECT " + MemberColumns() +
                           " FROM organization_members m JOIN users u ON u.id = m.user_id "
                           "WHERE m.organization_id = $1::uuid AND m.user_id = $2::uuid",
                       organization_id, user_id);
    if (rows.empty()) return std::optional<MemberRecord>();
    return std::optional<MemberRecord>(MemberFromRow(rows[0]));
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "reading a member");
  }
}

Result<std::optional<MemberRecord>> UpdateMemberRole(ConnectionPool& pool,
                                                     const std::string& organization_id,
                                                     const std::string& user_id,
                                                     const std::string& role,
                                                     std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::result current = tx.exec_params(
        "SELECT role FROM organization_members WHERE organization_id = $1::uuid AND user_id = "
        "$2::uuid FOR UPDATE",
        organization_id, user_id);
    if (current.empty()) return std::optional<MemberRecord>();
    if (current[0][0].as<std::string>() == "owner") {
      return FailedPrecondition("the owner's role cannot be changed",
                                "transfer ownership first (POST /organizations/{id}/transfer)");
    }
    tx.exec_params(
        "UPDATE organization_members SET role = $3 WHERE organization_id = $1::uuid "
        "AND user_id = $2::uuid",
        organization_id, user_id, role);
    pqxx::row r =
        tx.exec_params1("SELECT " + MemberColumns() +
                            " FROM organization_members m JOIN users u ON u.id = m.user_id "
                            "WHERE m.organization_id = $1::uuid AND m.user_id = $2::uuid",
                        organization_id, user_id);
    tx.commit();
    return std::optional<MemberRecord>(MemberFromRow(r));
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "changing a member's role");
  }
}

Result<bool> RemoveMember(ConnectionPool& pool, const std::string& organization_id,
                          const std::string& user_id, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::result current = tx.exec_params(
        "SELECT role FROM organization_members WHERE organization_id = $1::uuid AND user_id = "
        "$2::uuid FOR UPDATE",
        organization_id, user_id);
    if (current.empty()) return false;
    if (current[0][0].as<std::string>() == "owner") {
      return FailedPrecondition("the owner cannot be removed",
                                "transfer ownership first (POST /organizations/{id}/transfer)");
    }
    tx.exec_params(
        "DELETE FROM organization_members WHERE organization_id = $1::uuid AND "
        "user_id = $2::uuid",
        organization_id, user_id);
    tx.commit();
    return true;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "removing a member");
  }
}

}  // namespace auri
