#include "store/auth_repository.h"

#include <pqxx/pqxx>

#include "store/pg_error.h"

namespace auri {
namespace {

// Parses a PostgreSQL text[] literal of simple words ({read,write}); permission names never need
// quoting (the table's CHECK limits them to four plain words).
std::vector<std::string> ParseWordArray(const std::string& literal) {
  std::vector<std::string> out;
  std::string current;
  for (char c : literal) {
    if (c == '{' || c == '}' || c == '"') continue;
    if (c == ',') {
      if (!current.empty()) out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

}  // namespace

Result<std::optional<ApiKeyAuthRecord>> FindApiKeyByPrefix(ConnectionPool& pool,
                                                           const std::string& prefix,
                                                           std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    pqxx::result rows = tx.exec_params(
        "SELECT k.id::text, k.organization_id::text, o.plan, k.key_hash, k.permissions::text, "
        "       coalesce(k.rate_limit_override, 0), k.revoked_at IS NOT NULL, "
        "       coalesce(k.expires_at <= now(), false) "
        "FROM api_keys k JOIN organizations o ON o.id = k.organization_id WHERE k.prefix = $1",
        prefix);
    if (rows.empty()) return std::optional<ApiKeyAuthRecord>();
    const pqxx::row& r = rows[0];
    ApiKeyAuthRecord rec;
    rec.id = r[0].as<std::string>();
    rec.organization_id = r[1].as<std::string>();
    rec.organization_plan = r[2].as<std::string>();
    rec.key_hash = r[3].as<std::string>();
    rec.permissions = ParseWordArray(r[4].as<std::string>());
    rec.rate_limit_override = r[5].as<int64_t>();
    rec.revoked = r[6].as<bool>();
    rec.expired = r[7].as<bool>();
    return std::optional<ApiKeyAuthRecord>(std::move(rec));
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "looking up an api key");
  }
}

Status RecordApiKeyEvent(ConnectionPool& pool, const std::string& api_key_id,
                         const std::string& organization_id, const std::string& event_type,
                         const std::string& ip, const std::string& endpoint,
                         std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    std::optional<std::string> ip_value;
    if (!ip.empty()) ip_value = ip;
    tx.exec_params(
        "INSERT INTO api_key_audit_log (api_key_id, organization_id, event_type, ip_address, "
        "endpoint) VALUES ($1, $2, $3, $4::inet, $5)",
        api_key_id, organization_id, event_type, ip_value, endpoint.substr(0, 256));
    if (event_type == "used") {
      tx.exec_params(
          "UPDATE api_keys SET last_used_at = now(), last_used_ip = $2::inet "
          "WHERE id = $1",
          api_key_id, ip_value);
    }
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "recording an api key event");
  }
}

Status RecordAuthFailure(ConnectionPool& pool, const std::string& failure_type,
                         const std::string& key_prefix, const std::string& ip,
                         const std::string& endpoint, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    std::optional<std::string> ip_value, prefix_value;
    if (!ip.empty()) ip_value = ip;
    if (!key_prefix.empty()) prefix_value = key_prefix;
    tx.exec_params(
        "INSERT INTO auth_failures (failure_type, key_prefix, ip_address, endpoint) "
        "VALUES ($1, $2, $3::inet, $4)",
        failure_type, prefix_value, ip_value, endpoint.substr(0, 256));
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "recording an auth failure");
  }
}

Result<std::optional<std::string>> FindMemberRole(ConnectionPool& pool,
                                                  const std::string& organization_id,
                                                  const std::string& user_id,
                                                  std::chrono::milliseconds timeout) {
  // On every user request that names an organization: one prepared statement in autocommit (no
  // BEGIN/COMMIT round trips, no parse/plan per call). api/member_role_cache.h caches the answer.
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::connection& db = conn.get();
    db.prepare("auri_member_role",
               "SELECT role FROM organization_members WHERE organization_id = $1::uuid "
               "AND user_id = $2::uuid");
    pqxx::nontransaction tx(db);
    pqxx::result rows = tx.exec_prepared("auri_member_role", organization_id, user_id);
    if (rows.empty()) return std::optional<std::string>();
    return std::optional<std::string>(rows[0][0].as<std::string>());
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "looking up a membership");
  }
}

}  // namespace auri
