#pragma once
// LISTEN on a dedicated PostgreSQL connection (NOTIFY is a wake-up only: every user also polls,
// so a lost notification or a dropped connection costs latency, never data).
#include <chrono>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace auri {

class ConnectionPool;

class NotificationListener {
 public:
  // Does not connect; the first Wait does. `dsn` is a libpq DSN (its connect_timeout bounds the
  // connect).
  NotificationListener(std::string dsn, std::vector<std::string> channels);
  // Listens on the database of `pool` and follows it: when the pool is reconfigured (`auri
  // restore --switch`), the next Wait closes the connection and listens on the new database
  // (reporting `reconnected`). `pool` is not owned and must outlive the listener.
  NotificationListener(const ConnectionPool& pool, std::vector<std::string> channels);
  ~NotificationListener();
  NotificationListener(const NotificationListener&) = delete;
  NotificationListener& operator=(const NotificationListener&) = delete;

  struct Notification {
    std::string channel;
    std::string payload;
  };
  // At most this many notifications are kept per Wait (every input has a size limit); beyond
  // them only `channels` and `notifications_dropped` record that more arrived.
  static constexpr size_t kMaxNotificationsPerWait = 1024;

  struct Wakeup {
    std::set<std::string> channels;  // channels that were notified
    // The notifications themselves, in arrival order (the first kMaxNotificationsPerWait).
    std::vector<Notification> notifications;
    // True when notifications arrived beyond kMaxNotificationsPerWait: a caller that acts on
    // payloads must then act as if every payload had been seen (e.g. drop a whole cache).
    bool notifications_dropped = false;
    // True when this call (re)connected: notifications sent while disconnected are lost, so
    // the caller should treat every channel as notified.
    bool reconnected = false;
  };

  // Connects and LISTENs if not connected, then waits at most `timeout` for notifications
  // (0 = only collect what already arrived). Errors: kUnavailable when the connection cannot be
  // opened or was lost (it is reopened by the next call); the call then returns at once, so the
  // caller waits by itself before polling.
  Result<Wakeup> Wait(std::chrono::milliseconds timeout);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace auri
