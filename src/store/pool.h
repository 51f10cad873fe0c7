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

// libpqxx 6.4 declares `connection` as an alias of a template instance, so `class connection;`
// would not compile next to <pqxx/pqxx>; repeating the alias (allowed: it names the same type)
// keeps this header free of pqxx includes.
namespace pqxx {
class connect_direct;
template <typename ConnectPolicy>
class basic_connection_base;
using connection = basic_connection_base<connect_direct>;
}  // namespace pqxx

namespace auri {

struct PoolOptions {
  std::string dsn;                  // libpq DSN (keyword/value or URI)
  int size = 8;                     // most connections open at once
  int statement_timeout_ms = 5000;  // set on every connection
  // false: every connection commits with synchronous_commit = off, i.e. without waiting for the
  // WAL flush (one disk sync per commit). A database crash may then lose the last ≈ 0.6 s of
  // commits, so only pools whose every write may be lost use it: the action-workers', whose
  // writes (claims, leases, outcomes) come back as leased or pending jobs that run again with
  // the same id (at-least-once delivery). See docs/decisions.md.
  bool synchronous_commit = true;
};

class ConnectionPool;

// A connection on loan from the pool; returned when destroyed. Move-only.
//
// The borrower must hand it back as it found it: no open transaction (pqxx transactions are
// scoped, so this holds when they live inside the loan) and no session state (SET, LISTEN,
// temporary tables). A borrower that needs session state, or that saw an error which may have
// left the session unusable, calls MarkBroken() so the pool closes the connection instead.
// Named prepared statements are the one exception: each name stands for one SQL text in the
// whole program, so a statement left prepared changes nothing another borrower can observe.
// A moved-from PooledConnection holds nothing and returns nothing.
class PooledConnection {
 public:
  PooledConnection(PooledConnection&&) noexcept;
  PooledConnection& operator=(PooledConnection&&) noexcept;
  ~PooledConnection();

  pqxx::connection& get();  // for src/store code only. REQUIRES: not moved-from.
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
  // Does not connect (connections open lazily, on Acquire). A size below 1 is treated as 1.
  explicit ConnectionPool(PoolOptions options);
  // Closes the idle connections. REQUIRES: every PooledConnection has been returned.
  ~ConnectionPool();

  // Waits at most `timeout` for a free slot, opening a connection if needed. An idle connection
  // whose server has closed it (restart, failover, admin kill) is detected without a round trip
  // and replaced. Opening a connection is bounded by the DSN's connect_timeout (default 5 s),
  // capped near `timeout` (libpq counts whole seconds, at least 2).
  // Errors: kDeadlineExceeded when every slot stays busy; kUnavailable when PostgreSQL cannot be
  // reached (message says where, never the password; hint says what to check);
  // kInvalidArgument when the DSN is malformed.
  Result<PooledConnection> Acquire(std::chrono::milliseconds timeout);

  // Runs "SELECT 1" on a pooled connection within `timeout`, measured on the client, so it also
  // returns in time when the server hangs or the network drops packets. OK means the database
  // answers. Errors: those of Acquire; kUnavailable when the query fails; kDeadlineExceeded when
  // no answer came in time. On failure the connection is closed, not reused.
  Status Ping(std::chrono::milliseconds timeout);

  // Replaces the DSN (e.g. after `auri restore --switch`): idle connections are closed, connections
  // on loan are closed when returned; later Acquires connect to the new DSN.
  void Reconfigure(const std::string& dsn);

  // The current DSN. The reference stays valid for the pool's life (even across Reconfigure).
  const std::string& dsn() const;

 private:
  friend class PooledConnection;
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace auri
