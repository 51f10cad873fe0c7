#include "store/api_key_repository.h"

#include <pqxx/pqxx>

#include "store/pg_error.h"
#include "store/sql_text.h"

namespace auri {
namespace {

using store_internal::Rfc3339Sql;

std::string KeyColumns() {
  return "k.id::text, k.organization_id::text, k.name, k.prefix, k.environment, "
         "k.permissions::text, k.rate_limit_override, k.created_by::text, " +
         Rfc3339Sql("k.created_at") + ", " + Rfc3339Sql("k.updated_at") + ", " +
         Rfc3339Sql("k.last_used_at") + ", " + Rfc3339Sql("k.expires_at") + ", " +
         Rfc3339Sql("k.revoked_at") + ", k.revocation_reason";
}

std::optional<std::string> OptText(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

ApiKeyRecord KeyFromRow(const pqxx::row& r) {
  ApiKeyRecord k;
  k.id = r[0].as<std::string>();
  k.organization_id = r[1].as<std::string>();
  k.name = r[2].as<std::string>();
  k.prefix = r[3].as<std::string>();
  k.environment = r[4].as<std::string>();
  k.permissions = store_internal::ParseWordArray(r[5].as<std::string>());
  if (!r[6].is_null()) k.rate_limit_override = r[6].as<int64_t>();
  k.created_by = OptText(r[7]);
  k.created_at = r[8].as<std::string>();
  k.updated_at = r[9].as<std::string>();
  k.last_used_at = OptText(r[10]);
  k.expires_at = OptText(r[11]);
  k.revoked_at = OptText(r[12]);
  k.revocation_reason = OptText(r[13]);
  return k;
}

std::optional<std::string> NonEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

void WriteAudit(pqxx::work& tx, const std::string& key_id, const std::string& organization_id,
                const std::string& event, const AuditContext& audit,
                const std::optional<std::string>& related_key) {
  tx.exec_params(
      "INSERT INTO api_key_audit_log (api_key_id, organization_id, event_type, ip_address, "
      "endpoint, details) VALUES ($1::uuid, $2::uuid, $3, $4::inet, $5, "
      "jsonb_strip_nulls(jsonb_build_object('user_id', $6::text, 'related_key_id', $7::text)))",
      key_id, organization_id, event, NonEmpty(audit.ip), audit.endpoint.substr(0, 256),
      audit.user_id, related_key);
}

ApiKeyRecord InsertRow(pqxx::work& tx, const NewApiKeyRow& row) {
  return KeyFromRow(tx.exec_params1(
      "INSERT INTO api_keys AS k (organization_id, name, prefix, key_hash, environment, "
      "permissions, rate_limit_override, expires_at, created_by) VALUES ($1::uuid, $2, $3, $4, "
      "$5, $6::text[], $7, to_timestamp($8::bigint / 1000.0), $9::uuid) RETURNING " +
          KeyColumns(),
      row.organization_id, row.name, row.prefix, row.key_hash, row.environment,
      store_internal::WordArrayLiteral(row.permissions), row.rate_limit_override, row.expires_at_ms,
      row.created_by));
}

Status PrefixCollision() {
  return AlreadyExists("api key prefix collision", "generate another key and retry");
}

}  // namespace

Result<ApiKeyRecord> InsertApiKey(ConnectionPool& pool, const NewApiKeyRow& row,
                                  const AuditContext& audit, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    ApiKeyRecord key = InsertRow(tx, row);
    WriteAudit(tx, key.id, key.organization_id, "created", audit, std::nullopt);
    tx.commit();
    return key;
  } catch (const pqxx::unique_violation&) {
    return PrefixCollision();
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "creating an api key");
  }
}

Result<PageOf<ApiKeyRecord>> ListApiKeys(ConnectionPool& pool, const std::string& organization_id,
                                         int64_t limit, int64_t offset,
                                         std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    PageOf<ApiKeyRecord> page;
    page.total = tx.exec_params1("SELECT count(*) FROM api_keys WHERE organization_id = $1::uuid",
                                 organization_id)[0]
                     .as<int64_t>();
    pqxx::result rows = tx.exec_params("SELECT " + KeyColumns() +
                                           " FROM api_keys k WHERE k.organization_id = $1::uuid "
                                           "ORDER BY k.created_at DESC, k.id LIMIT $2 OFFSET $3",
                                       organization_id, limit, offset);
    for (const pqxx::row& r : rows) page.items.push_back(KeyFromRow(r));
    return page;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "listing api keys");
  }
}

Result<std::optional<ApiKeyRecord>> GetApiKey(ConnectionPool& pool, const std::string& id,
                                              std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    pqxx::result rows =
        tx.exec_params("SELECT " + KeyColumns() + " FROM api_keys k WHERE k.id = $1::uuid", id);
    if (rows.empty()) return std::optional<ApiKeyRecord>();
    return std::optional<ApiKeyRecord>(KeyFromRow(rows[0]));
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "reading an api key");
  }
}

Result<std::optional<ApiKeyRecord>> UpdateApiKey(ConnectionPool& pool, const std::string& id,
                                                 const ApiKeyUpdate& update,
                                                 std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::result current = tx.exec_params(
        "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = $1::uuid FOR UPDATE", id);
    if (current.empty()) return std::optional<ApiKeyRecord>();
    if (current[0][0].as<bool>()) {
      return FailedPrecondition("a revoked api key cannot be changed", "create a new key");
    }
    std::optional<std::string> permissions;
    if (update.permissions) permissions = store_internal::WordArrayLiteral(*update.permissions);
    std::optional<int64_t> rate, expires;
    if (update.rate_limit_override) rate = *update.rate_limit_override;
    if (update.expires_at_ms) expires = *update.expires_at_ms;
    pqxx::row r = tx.exec_params1(
        "UPDATE api_keys AS k SET name = coalesce($2, name), "
        "permissions = coalesce($3::text[], permissions), "
        "rate_limit_override = CASE WHEN $4 THEN $5 ELSE rate_limit_override END, "
        "expires_at = CASE WHEN $6 THEN to_timestamp($7::bigint / 1000.0) ELSE expires_at END "
        "WHERE id = $1::uuid RETURNING " +
            KeyColumns(),
        id, update.name, permissions, update.rate_limit_override.has_value(), rate,
        update.expires_at_ms.has_value(), expires);
    tx.commit();
    return std::optional<ApiKeyRecord>(KeyFromRow(r));
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "updating an api key");
  }
}

Result<bool> RevokeApiKey(ConnectionPool& pool, const std::string& id,
                          const std::optional<std::string>& reason, const AuditContext& audit,
                          std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::result current = tx.exec_params(
        "SELECT organization_id::text, revoked_at IS NOT NULL FROM api_keys WHERE id = $1::uuid "
        "FOR UPDATE",
        id);
    if (current.empty()) return NotFound("api key not found");
    if (current[0][1].as<bool>()) return false;
    tx.exec_params(
        "UPDATE api_keys SET revoked_at = now(), revoked_by = $2::uuid, "
        "revocation_reason = $3 WHERE id = $1::uuid",
        id, audit.user_id, reason);
    WriteAudit(tx, id, current[0][0].as<std::string>(), "revoked", audit, std::nullopt);
    tx.commit();
    return true;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "revoking an api key");
  }
}

Result<ApiKeyRecord> RotateApiKey(ConnectionPool& pool, const std::string& old_id,
                                  const NewApiKeyRow& replacement, const AuditContext& audit,
                                  std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::result current = tx.exec_params(
        "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = $1::uuid FOR UPDATE", old_id);
    if (current.empty()) return NotFound("api key not found");
    if (current[0][0].as<bool>()) {
      return FailedPrecondition("a revoked api key cannot be rotated", "create a new key");
    }
    tx.exec_params(
        "UPDATE api_keys SET revoked_at = now(), revoked_by = $2::uuid, "
        "revocation_reason = 'rotated' WHERE id = $1::uuid",
        old_id, audit.user_id);
    ApiKeyRecord key = InsertRow(tx, replacement);
    WriteAudit(tx, old_id, key.organization_id, "rotated", audit, key.id);
    WriteAudit(tx, key.id, key.organization_id, "created", audit, old_id);
    tx.commit();
    return key;
  } catch (const pqxx::unique_violation&) {
    return PrefixCollision();
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "rotating an api key");
  }
}

}  // namespace auri
