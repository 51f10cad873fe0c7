#include "store/notification_listener.h"

#include <pqxx/pqxx>

#include "store/pg_error.h"
#include "store/pool.h"

namespace auri {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel,
           NotificationListener::Wakeup* seen)
      : pqxx::notification_receiver(conn, channel), seen_(seen) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    seen_->channels.insert(channel());
    if (seen_->notifications.size() < NotificationListener::kMaxNotificationsPerWait) {
      seen_->notifications.push_back({channel(), payload});
    } else {
      seen_->notifications_dropped = true;
    }
  }

 private:
  NotificationListener::Wakeup* seen_;
};

}  // namespace

struct NotificationListener::State {
  std::string dsn;                       // fixed DSN, or
  const ConnectionPool* pool = nullptr;  // the pool whose DSN to follow
  std::string connected_dsn;             // DSN of the open connection
  std::vector<std::string> channels;
  Wakeup seen;  // filled by the receivers during one Wait
  // Receivers UNLISTEN in their destructor, so they go before the connection.
  std::unique_ptr<pqxx::connection> conn;
  std::vector<std::unique_ptr<Receiver>> receivers;

  void Close() {
    try {
      receivers.clear();
    } catch (...) {  // UNLISTEN on a dead connection: nothing to undo
    }
    conn.reset();
  }
};

NotificationListener::NotificationListener(std::string dsn, std::vector<std::string> channels)
    : state_(std::make_unique<State>()) {
  state_->dsn = std::move(dsn);
  state_->channels = std::move(channels);
}

NotificationListener::NotificationListener(const ConnectionPool& pool,
                                           std::vector<std::string> channels)
    : state_(std::make_unique<State>()) {
  state_->pool = &pool;
  state_->channels = std::move(channels);
}

NotificationListener::~NotificationListener() { state_->Close(); }

Result<NotificationListener::Wakeup> NotificationListener::Wait(std::chrono::milliseconds timeout) {
  Wakeup wakeup;
  State& s = *state_;
  try {
    const std::string& want = s.pool ? s.pool->dsn() : s.dsn;
    if (s.conn && s.connected_dsn != want) s.Close();  // the database was switched
    if (!s.conn || !s.conn->is_open()) {
      s.Close();
      s.connected_dsn = want;
      s.conn = std::make_unique<pqxx::connection>(want);
      for (const std::string& channel : s.channels) {
        s.receivers.push_back(std::make_unique<Receiver>(*s.conn, channel, &s.seen));
      }
      wakeup.reconnected = true;
    }
    s.seen = Wakeup{};
    if (timeout.count() > 0) {
      long ms = static_cast<long>(timeout.count());
      s.conn->await_notification(ms / 1000, (ms % 1000) * 1000);
    }
    s.conn->get_notifs();  // anything else that arrived meanwhile
    bool reconnected = wakeup.reconnected;
    wakeup = std::move(s.seen);
    wakeup.reconnected = reconnected;
    s.seen = Wakeup{};
    return wakeup;
  } catch (const std::exception& e) {
    s.Close();
    Status st = store_internal::StatusFromException(e, "listening for notifications");
    return Unavailable(st.message());
  }
}

}  // namespace auri
