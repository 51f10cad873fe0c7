#pragma once
// Small helpers for the store's integration tests: direct SQL through pqxx (store tests may use
// pqxx; nothing outside src/store and its tests does), bounded waits, and a valid event row.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>

namespace auri::testing {

inline std::unique_ptr<pqxx::connection> OpenConnection(const std::string& dsn) {
  return std::make_unique<pqxx::connection>(dsn);
}

// Runs `sql` in its own transaction and returns the first column of the first row ("" if none).
inline std::string QueryValue(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  pqxx::result r = tx.exec(sql);
  tx.commit();
  if (r.empty() || r[0].empty() || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

inline void ExecSql(const std::string& dsn, const std::string& sql) { (void)QueryValue(dsn, sql); }

// Polls `done` until it returns true or `timeout` passes; returns the last result.
inline bool PollUntil(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// An INSERT of a valid identity/Registered event with block time `unix_seconds`; `log_index`
// makes the id unique. RETURNING the partition it landed in. `block_time_sql` overrides the
// block_time expression (default: to_timestamp of the timestamp, as writers must supply it).
inline std::string InsertEventSql(int log_index, long long unix_seconds,
                                  std::string block_time_sql = "") {
  const std::string tx_hash = "0x" + std::string(64, 'a');
  const std::string ts = std::to_string(unix_seconds);
  const std::string li = std::to_string(log_index);
  if (block_time_sql.empty()) block_time_sql = "to_timestamp(" + ts + ")";
  return "INSERT INTO events (id, chain_id, block_number, transaction_hash, log_index, registry, "
         "event_type, agent_id, \"timestamp\", block_time, owner, token_uri) VALUES ("
         "'identity-11155111-" +
         tx_hash + "-" + li + "', 11155111, 9745219, '" + tx_hash + "', " + li +
         ", 'identity', 'Registered', 3234, " + ts + ", " + block_time_sql + ", '0x" +
         std::string(40, 'b') + "', 'ipfs://x') RETURNING tableoid::regclass::text";
}

}  // namespace auri::testing
