#pragma once
// Named prepared statements for the statements that run for every batch (the event-processor's
// batch, the action-workers' claims and outcome writes): parsed and planned once per connection
// instead of on every call. Internal to src/store.
//
// A name stands for exactly one SQL text in the whole program (pqxx refuses a redefinition), so a
// statement left prepared on a pooled connection changes nothing another borrower can observe.
#include <pqxx/pqxx>
#include <utility>

namespace auri::store_internal {

// Runs `sql` as the prepared statement `name`, defining it on the connection the first time.
template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& tx, const char* name, const char* sql,
                          Args&&... args) {
  tx.conn().prepare(name, sql);  // a map lookup once defined with the same text
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace auri::store_internal
