// `auri action-workers`: the delivery role. Wires Config → PostgreSQL pool, secret store (signing
// keys, Telegram token), metrics endpoint → delivery::Worker, and runs until SIGTERM/SIGINT; then
// in-flight requests get a short grace and unfinished leases are released.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "cli/context.h"
#include "cli/database_url.h"
#include "cli/exit_codes.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/version.h"
#include "delivery/webhook_signature.h"
#include "delivery/worker.h"
#include "secrets/secret_store.h"
#include "store/job_repository.h"
#include "store/pool.h"

namespace auri {
namespace {

using std::chrono::milliseconds;

// A minimal loopback HTTP endpoint: GET /metrics (Prometheus text) and GET /health. One request
// per connection, requests read with a 1 s deadline and at most 8 KiB; enough for a scraper and
// the supervisor's readiness probe, without pulling the API server into this role.
class MetricsEndpoint {
 public:
  MetricsEndpoint(const MetricsRegistry* metrics) : metrics_(metrics) {}
  ~MetricsEndpoint() { Stop(); }

  Status Start(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0) {
      ::close(fd_);
      fd_ = -1;
      return Unavailable("cannot listen on 127.0.0.1:" + std::to_string(port) + " for metrics",
                         "set delivery.metrics_port to a free port, or 0 for none");
    }
    thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      Serve(c);
      ::close(c);
    }
  }

  void Serve(int c) {
    std::string req;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    char buf[1024];
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string status = "200 OK", body;
    if (req.rfind("GET /metrics", 0) == 0) {
      body = metrics_->Render();
    } else if (req.rfind("GET /health", 0) == 0) {
      body = "{\"status\":\"ok\"}\n";
    } else {
      status = "404 Not Found";
      body = "not found\n";
    }
    std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain; version=0.0.4\r\n" +
                       "Content-Length: " + std::to_string(body.size()) +
                       "\r\nConnection: close\r\n\r\n" + body;
    size_t off = 0;
    while (off < resp.size()) {
      ssize_t n = ::send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  const MetricsRegistry* metrics_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The secrets a worker needs, re-read at most once a second so a rotation applies without a
// restart while a burst of jobs does not decrypt the store for every job.
class DeliverySecrets {
 public:
  explicit DeliverySecrets(SecretStore* store) : store_(store) {}

  Result<std::vector<std::string>> SigningKeys() {
    std::lock_guard<std::mutex> lock(mu_);
    Refresh();
    if (!keys_.ok()) return keys_.status();
    return keys_.value();
  }
  Result<std::string> TelegramToken() {
    std::lock_guard<std::mutex> lock(mu_);
    Refresh();
    if (!token_.ok()) return token_.status();
    return token_.value();
  }

 private:
  void Refresh() {
    auto now = std::chrono::steady_clock::now();
    if (loaded_ && now - loaded_at_ < std::chrono::seconds(1)) return;
    loaded_ = true;
    loaded_at_ = now;
    keys_ = LoadKeys();
    auto token = store_->Get("telegram-bot-token");
    token_ = token.ok() ? Result<std::string>(token->value.reveal())
                        : Result<std::string>(token.status());
  }

  Result<std::vector<std::string>> LoadKeys() {
    auto current = store_->Get("webhook-signing-secret");
    if (!current.ok()) return current.status().WithContext("reading webhook-signing-secret");
    std::vector<std::string> keys;
    ASSIGN_OR_RETURN(std::string key, delivery::DecodeSigningSecret(current->value.reveal()));
    keys.push_back(std::move(key));
    // During a rotation the previous version still signs, so receivers can roll over.
    auto previous = store_->Get("webhook-signing-secret", Label::kPrevious);
    if (previous.ok()) {
      auto prev_key = delivery::DecodeSigningSecret(previous->value.reveal());
      if (prev_key.ok()) keys.push_back(std::move(prev_key).value());
    }
    return keys;
  }

  SecretStore* store_;
  std::mutex mu_;
  bool loaded_ = false;
  std::chrono::steady_clock::time_point loaded_at_;
  Result<std::vector<std::string>> keys_ = Internal("not loaded");
  Result<std::string> token_ = Internal("not loaded");
};

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

int RunActionWorkers(const CliContext& ctx) {
  const Config& c = ctx.config;

  // SIGTERM/SIGINT are taken by sigwait in one thread; blocked before any thread starts so no
  // other thread is interrupted by them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  delivery::PrivateDestinations policy = delivery::PrivateDestinations::kRefuse;
  const std::string& apd = c.delivery.allow_private_destinations;
  if (apd == "true") {
    policy = delivery::PrivateDestinations::kAllow;
    ctx.log.Warn("deliveries may reach private addresses (delivery.allow_private_destinations)");
  } else if (apd == "auto" && c.EmbeddedPostgres()) {
    // The embedded `auri up` stack is a local installation: a receiver on this machine is the
    // common case there. Anything else refuses private destinations unless explicitly allowed.
    policy = delivery::PrivateDestinations::kAllowLoopback;
    ctx.log.Warn(
        "embedded stack: deliveries may reach loopback addresses; set "
        "delivery.allow_private_destinations = false to refuse them");
  }

  auto store = OpenSecretStore(c);
  if (!store.ok()) return ReportFailure(store.status());
  DeliverySecrets secrets(&store.value());

  // The `database-url` secret's database (followed while running: `auri restore --switch`), or
  // the configuration's when the secret does not exist.
  PoolOptions pool_options;
  pool_options.dsn = ServiceDatabaseDsn(c, &store.value());
  pool_options.size = 5;  // claim, two record threads, metrics, one spare
  pool_options.statement_timeout_ms = c.postgres.statement_timeout_ms;
  // Claims, leases and outcomes may be lost in a database crash: the jobs then run again with
  // the same id (at least once), so these commits need not wait for the disk.
  pool_options.synchronous_commit = false;
  ConnectionPool pool(pool_options);
  DatabaseUrlWatcher database_url(&store.value(), {&pool}, ctx.log);

  MetricsRegistry metrics;
  delivery::TelegramRateLimiter telegram_limiter;

  delivery::WorkerOptions options;
  options.owner = HostName() + ":" + std::to_string(::getpid()) + ":" + RandomHex(4);
  options.concurrency = c.delivery.concurrency;
  options.per_host_concurrency = c.delivery.per_host_concurrency;
  options.lease = std::chrono::seconds(c.delivery.lease_seconds);
  options.poll_interval = milliseconds(c.delivery.poll_interval_ms);
  options.max_attempts = c.delivery.max_attempts;
  options.retention_days = c.delivery.retention_days;
  options.private_destinations = policy;
  options.telegram_api_base = c.telegram.api_base;
  options.user_agent = std::string("auri/") + kVersion;
  options.db_timeout = milliseconds(c.postgres.connect_timeout_seconds * 1000);

  delivery::WorkerDeps deps;
  deps.pool = &pool;
  deps.signing_keys = [&secrets] { return secrets.SigningKeys(); };
  deps.telegram_token = [&secrets] { return secrets.TelegramToken(); };
  deps.telegram_limiter = &telegram_limiter;
  deps.metrics = &metrics;
  deps.logger = &ctx.log;
  delivery::Worker worker(options, deps);

  // Queue gauges are read from the database at most every 5 s (a scrape must stay cheap).
  std::mutex stats_mu;
  QueueStats stats;
  auto stats_at = std::chrono::steady_clock::time_point();
  auto read_stats = [&]() -> QueueStats {
    std::lock_guard<std::mutex> lock(stats_mu);
    auto now = std::chrono::steady_clock::now();
    if (now - stats_at > std::chrono::seconds(5)) {
      auto s = ReadQueueStats(pool, milliseconds(1000));
      if (s.ok()) stats = *s;
      stats_at = now;
    }
    return stats;
  };
  metrics.AddGauge("auri_delivery_queue_pending", "Pending jobs (due or waiting for a retry).",
                   [&] { return static_cast<double>(read_stats().pending); });
  metrics.AddGauge("auri_delivery_queue_running", "Jobs leased by a worker.",
                   [&] { return static_cast<double>(read_stats().running); });
  metrics.AddGauge("auri_delivery_oldest_pending_age_seconds", "Age of the oldest due pending job.",
                   [&] { return read_stats().oldest_pending_age_seconds; });

  MetricsEndpoint endpoint(&metrics);
  if (c.delivery.metrics_port != 0) {
    Status s = endpoint.Start(c.delivery.metrics_port);
    if (!s.ok()) return ReportFailure(s);
  }

  std::atomic<bool> stop{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    ctx.log.Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    stop = true;
  });
  ctx.log.Info("action-workers started", {{"owner", options.owner},
                                          {"concurrency", options.concurrency},
                                          {"metrics_port", c.delivery.metrics_port},
                                          {"version", kVersion}});
  Status s = worker.Run(stop);
  // Run returns only after stop was set by the signal thread.
  signal_thread.join();
  endpoint.Stop();
  return s.ok() ? kExitOk : ReportFailure(s);
}

}  // namespace auri
