#include "store/manifest_repository.h"

#include <pqxx/pqxx>

#include "store/pg_error.h"

namespace auri {
namespace {

struct TableSpec {
  const char* table;
  const char* columns;  // the row's defining columns, as a SQL row constructor's contents
};

// Every column is cast to text explicitly so the checksum does not depend on a type's output
// settings (DateStyle, extra_float_digits) of the session computing it.
constexpr TableSpec kTables[] = {
    {"users", "id::text, username, email, password_hash, is_active::text, created_at::text"},
    {"organizations",
     "id::text, name, coalesce(description, ''), slug, plan, is_personal::text, "
     "created_at::text"},
    {"organization_members", "organization_id::text, user_id::text, role"},
    {"api_keys",
     "id::text, organization_id::text, name, prefix, key_hash, permissions::text, "
     "coalesce(rate_limit_override::text, ''), coalesce(expires_at::text, ''), "
     "coalesce(revoked_at::text, '')"},
    {"triggers",
     "id::text, organization_id::text, name, coalesce(description, ''), "
     "coalesce(chain_id::text, ''), registry, enabled::text, is_stateful::text, "
     "cb_failure_threshold::text, cb_recovery_timeout_seconds::text, "
     "cb_half_open_max_calls::text, created_at::text"},
    {"trigger_conditions",
     "id::text, trigger_id::text, condition_type, coalesce(field, ''), coalesce(operator, ''), "
     "value, config::text"},
    {"trigger_actions", "id::text, trigger_id::text, action_type, priority::text, config::text"},
};

}  // namespace

Result<std::vector<ManifestTable>> ComputeManifest(ConnectionPool& pool,
                                                   std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn.get());
    std::vector<ManifestTable> out;
    for (const TableSpec& spec : kTables) {
      // md5 of each row's text form, sorted, concatenated, md5 again: independent of row order.
      std::string sql = std::string(
                            "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), "
                            "'')) FROM (SELECT md5(ROW(") +
                        spec.columns + ")::text) AS h FROM " + spec.table + ") t";
      pqxx::row r = tx.exec1(sql);
      out.push_back({spec.table, r[0].as<int64_t>(), r[1].as<std::string>()});
    }
    return out;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "computing the manifest");
  }
}

}  // namespace auri
