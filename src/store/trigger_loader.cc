#include "store/trigger_loader.h"

#include <pqxx/pqxx>
#include <unordered_map>

#include "store/pg_error.h"

namespace auri {

Result<std::vector<pipeline::TriggerDefinition>> LoadEnabledTriggers(
    ConnectionPool& pool, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_write> tx(conn.get());
    std::vector<pipeline::TriggerDefinition> triggers;
    std::unordered_map<std::string, size_t> position;
    for (const pqxx::row& r :
         tx.exec("SELECT id::text, organization_id::text, name, chain_id, registry, is_stateful, "
                 "floor(extract(epoch FROM created_at) * 1000)::bigint "
                 "FROM triggers WHERE enabled ORDER BY created_at, id")) {
      pipeline::TriggerDefinition t;
      t.id = r[0].as<std::string>();
      t.organization_id = r[1].as<std::string>();
      t.name = r[2].as<std::string>();
      if (!r[3].is_null()) t.chain_id = r[3].as<int64_t>();
      t.registry = r[4].as<std::string>();
      t.enabled = true;
      t.is_stateful = r[5].as<bool>();
      t.created_at_ms = r[6].as<int64_t>();
      position.emplace(t.id, triggers.size());
      triggers.push_back(std::move(t));
    }
    for (const pqxx::row& r :
         tx.exec("SELECT c.trigger_id::text, c.id::text, c.condition_type, c.field, c.operator, "
                 "c.value, c.config::text FROM trigger_conditions c "
                 "JOIN triggers t ON t.id = c.trigger_id WHERE t.enabled "
                 "ORDER BY c.trigger_id, c.position")) {
      auto it = position.find(r[0].as<std::string>());
      if (it == position.end()) continue;
      pipeline::ConditionDefinition c;
      c.id = r[1].as<std::string>();
      c.condition_type = r[2].as<std::string>();
      if (!r[3].is_null()) c.field = r[3].as<std::string>();
      if (!r[4].is_null()) c.op = r[4].as<std::string>();
      c.value = r[5].as<std::string>();
      c.config = r[6].as<std::string>();
      triggers[it->second].conditions.push_back(std::move(c));
    }
    for (const pqxx::row& r :
         tx.exec("SELECT a.trigger_id::text, a.id::text, a.action_type, a.priority, a.config::text "
                 "FROM trigger_actions a JOIN triggers t ON t.id = a.trigger_id WHERE t.enabled "
                 "ORDER BY a.trigger_id, a.priority, a.created_at, a.id")) {
      auto it = position.find(r[0].as<std::string>());
      if (it == position.end()) continue;
      pipeline::ActionDefinition a;
      a.id = r[1].as<std::string>();
      a.action_type = r[2].as<std::string>();
      a.priority = r[3].as<int32_t>();
      a.config = r[4].as<std::string>();
      triggers[it->second].actions.push_back(std::move(a));
    }
    tx.commit();
    return triggers;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "loading triggers");
  }
}

}  // namespace auri
