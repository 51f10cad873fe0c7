#pragma once
// ConnectionPool: a fixed-size pool of PostgreSQL connections (libpqxx underneath; pqxx never
// appears in a header outside src/store, so only store/*.cc include it).
//
// Connections are opened lazily and re-opened after failure, so a process survives PostgreSQL
// restarts and failovers without restarting: a broken connection is discarded when it is returned
// and the next Acquire opens a fresh one. Every connection gets `statement_timeout` and the
// DSN's connect_timeout, so no query and no connect waits forever. Thread-safe.
#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"

namespace pqxx {
class connection;
}

namespace auri {

struct PoolOptions {
  std::string dsn;                 // libpq DSN (keyword/value or URI)
  int size = 8;                    // most connections open at once
  int statement_timeout_ms = 5000; // set on every connection
};

class ConnectionPool;

// A connection on loan from the pool; returned when destroyed. Move-only.
class PooledConnection {
 public:
  PooledConnection(PooledConnection&&) noexcept;
  PooledConnection& operator=(PooledConnection&&) noexcept;
  ~PooledConnection();

  pqxx::connection& get();  // for src/store code only
  // Marks the connection broken so the pool closes it instead of reusing it (call after an error
  // that may have left it unusable).
  void MarkBroken() { broken_ = true; }

 private:
  friend class ConnectionPool;
  PooledConnection(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn);
  ConnectionPool* pool_ = nullptr;
  std::unique_ptr<pqxx::connection> conn_;
  bool broken_ = false;
};

class ConnectionPool {
 public:
  explicit ConnectionPool(PoolOptions options);
  ~ConnectionPool();

  // Waits at most `timeout` for a free slot, opening a connection if needed.
  // Errors: kDeadlineExceeded when every slot stays busy; kUnavailable when PostgreSQL cannot be
  // reached (message says where, hint says what to check).
  Result<PooledConnection> Acquire(std::chrono::milliseconds timeout);

  // Runs "SELECT 1" on a pooled connection within `timeout`. OK means the database answers.
  Status Ping(std::chrono::milliseconds timeout);

  // Replaces the DSN (e.g. after `auri restore --switch`): idle connections are closed, connections
  // on loan are closed when returned; later Acquires connect to the new DSN.
  void Reconfigure(const std::string& dsn);

  const std::string& dsn() const;

 private:
  friend class PooledConnection;
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace auri
