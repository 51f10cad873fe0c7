#include "store/pool.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/conninfo.h"
#include "store/pg_error.h"

namespace auri {
namespace {

using store_internal::ConnectSettings;
using store_internal::ConnInfo;
using Clock = std::chrono::steady_clock;

// True when an idle connection has something to read or its socket is gone. An idle session is
// sent nothing unless the server is going away (a FATAL "terminating connection" before it
// closes, then EOF), so readable means stale — this catches PostgreSQL restarts without a round
// trip. A silently vanished server (network partition) is not caught here; the borrower's first
// query fails and the connection is dropped when returned.
bool LooksClosedByServer(const pqxx::connection& conn) {
  int fd = conn.sock();
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

// Shuts a socket down when a deadline passes, so a blocking libpq call on it returns with an error
// instead of waiting for a server that does not answer. shutdown() leaves the descriptor open
// (libpq still owns it), so there is no race with the descriptor being reused.
class SocketDeadline {
 public:
  SocketDeadline(int fd, Clock::time_point deadline)
      : thread_([this, fd, deadline] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_until(lock, deadline, [this] { return done_; })) {
            ::shutdown(fd, SHUT_RDWR);
            fired_ = true;
          }
        }) {}
  ~SocketDeadline() { Finish(); }

  // Stops the watch; returns true when the deadline had already passed and the socket was shut.
  bool Finish() {
    if (thread_.joinable()) {
      {
        std::lock_guard lock(mu_);
        done_ = true;
      }
      cv_.notify_one();
      thread_.join();
    }
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;  // last: starts after the members it uses exist
};

std::string Millis(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

struct ConnectionPool::State {
  PoolOptions options;

  std::mutex mu;
  std::condition_variable slot_freed;
  // Every DSN this pool was given; dsn() hands out references into it, so they must outlive
  // Reconfigure. A handful of strings over a process's life.
  std::list<std::string> dsns;
  std::atomic<const std::string*> current_dsn{nullptr};
  Result<ConnInfo> conninfo = ConnInfo{};  // parsed current DSN, or why it does not parse
  // Bumped by Reconfigure; connections opened under an older generation are not reused.
  uint64_t generation = 0;

  struct Idle {
    std::unique_ptr<pqxx::connection> conn;
    uint64_t generation;
  };
  std::vector<Idle> idle;  // most recently returned last (reused first: warm caches)
  std::unordered_map<const pqxx::connection*, uint64_t> loaned;  // generation of each loan
  int open = 0;  // idle + loaned + being opened; never above options.size

  void SetDsn(const std::string& dsn) {
    dsns.push_back(dsn);
    current_dsn.store(&dsns.back());
    conninfo = store_internal::ParseDsn(dsn);
    ++generation;
  }
};

PooledConnection::PooledConnection(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), broken_(other.broken_) {
  other.pool_ = nullptr;
}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_), broken_);
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    broken_ = other.broken_;
    other.pool_ = nullptr;
  }
  return *this;
}

PooledConnection::~PooledConnection() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_), broken_);
}

pqxx::connection& PooledConnection::get() { return *conn_; }

ConnectionPool::ConnectionPool(PoolOptions options) : state_(std::make_unique<State>()) {
  if (options.size < 1) options.size = 1;
  state_->options = std::move(options);
  state_->SetDsn(state_->options.dsn);
}

ConnectionPool::~ConnectionPool() = default;

Result<PooledConnection> ConnectionPool::Acquire(std::chrono::milliseconds timeout) {
  State& s = *state_;
  const Clock::time_point deadline = Clock::now() + timeout;
  std::unique_lock lock(s.mu);
  while (true) {
    if (!s.conninfo.ok()) return s.conninfo.status();
    bool free = s.slot_freed.wait_until(
        lock, deadline, [&s] { return !s.idle.empty() || s.open < s.options.size; });
    if (!free) {
      return DeadlineExceeded(
          "no database connection became free within " + Millis(timeout) + ": all " +
              std::to_string(s.options.size) + " are in use",
          "raise the database pool size, or look for slow queries and connections that are "
          "held too long");
    }
    if (!s.idle.empty()) {
      State::Idle entry = std::move(s.idle.back());
      s.idle.pop_back();
      if (entry.generation == s.generation && !LooksClosedByServer(*entry.conn)) {
        s.loaned[entry.conn.get()] = entry.generation;
        return PooledConnection(this, std::move(entry.conn));
      }
      // Stale: close it outside the lock (closing writes a Terminate message) and look again;
      // its slot is free now.
      --s.open;
      lock.unlock();
      entry.conn.reset();
      lock.lock();
      continue;
    }
    // A free slot and no idle connection: open one. The slot is reserved first so concurrent
    // Acquires cannot overshoot the size while this one connects without the lock.
    ++s.open;
    const uint64_t generation = s.generation;
    const ConnInfo info = *s.conninfo;
    ConnectSettings settings;
    settings.statement_timeout_ms = s.options.statement_timeout_ms;
    settings.synchronous_commit = s.options.synchronous_commit;
    settings.connect_deadline = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(deadline - Clock::now(), Clock::duration::zero()));
    lock.unlock();
    auto conn = store_internal::Connect(info, settings);
    lock.lock();
    if (!conn.ok()) {
      --s.open;
      s.slot_freed.notify_one();
      return conn.status();
    }
    s.loaned[conn->get()] = generation;
    return PooledConnection(this, std::move(conn).value());
  }
}

void ConnectionPool::Release(std::unique_ptr<pqxx::connection> conn, bool broken) {
  State& s = *state_;
  std::unique_ptr<pqxx::connection> to_close;
  {
    std::lock_guard lock(s.mu);
    uint64_t generation = 0;
    if (auto it = s.loaned.find(conn.get()); it != s.loaned.end()) {
      generation = it->second;
      s.loaned.erase(it);
    }
    // is_open() is false after libpq saw the connection fail, which catches borrowers that hit
    // an error but forgot MarkBroken().
    if (!broken && conn->is_open() && generation == s.generation) {
      s.idle.push_back({std::move(conn), generation});
    } else {
      --s.open;
      to_close = std::move(conn);
    }
  }
  s.slot_freed.notify_one();
}

Status ConnectionPool::Ping(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  ASSIGN_OR_RETURN(PooledConnection conn, Acquire(timeout));
  SocketDeadline watch(conn.get().sock(), deadline);
  auto where = [this] {
    std::lock_guard lock(state_->mu);
    // Reconfigure may have swapped the DSN meanwhile; name the current one.
    return "ping of postgresql at " +
           (state_->conninfo.ok() ? state_->conninfo->Endpoint() : std::string("(malformed dsn)"));
  };
  try {
    pqxx::nontransaction tx(conn.get(), "ping");
    tx.exec("SELECT 1");
  } catch (const std::exception& e) {
    conn.MarkBroken();
    if (watch.Finish()) {
      return DeadlineExceeded(where() + ": no answer within " + Millis(timeout),
                              "the server or the network to it is stalled; check the host");
    }
    return store_internal::StatusFromException(e, where());
  }
  // The deadline may have passed just after the answer arrived: the socket is shut down then.
  if (watch.Finish()) conn.MarkBroken();
  return Status::Ok();
}

void ConnectionPool::Reconfigure(const std::string& dsn) {
  State& s = *state_;
  std::vector<State::Idle> to_close;
  {
    std::lock_guard lock(s.mu);
    s.SetDsn(dsn);
    s.open -= static_cast<int>(s.idle.size());
    to_close.swap(s.idle);
  }
  s.slot_freed.notify_all();
}

const std::string& ConnectionPool::dsn() const { return *state_->current_dsn.load(); }

}  // namespace auri
