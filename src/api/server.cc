#include "api/server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/pipeline.h"
#include "common/logging.h"

namespace auri::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// After an error response (413, 431, 400) the client may still be sending. Closing at once would
// make the kernel answer its data with RST, which can destroy our response before the client reads
// it; so we stop sending, read and discard for a while, then close (nginx's "lingering close").
constexpr std::chrono::seconds kMaxLingerTime{2};
constexpr size_t kMaxLingerBytes = size_t{16} << 20;
constexpr size_t kDrainChunkBytes = 16384;

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

struct Limits {
  std::chrono::seconds read_timeout;
  std::chrono::seconds write_timeout;
  std::chrono::seconds linger_timeout;
  uint32_t header_limit;
  uint64_t body_limit;
};

class Session;

// The live sessions, so Stop can ask each to finish and wait until all are gone.
class SessionRegistry {
 public:
  // Returns false (and keeps nothing) once Close was called: no new connections during shutdown.
  bool Add(const std::shared_ptr<Session>& session) {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    sessions_.emplace(session.get(), session);
    return true;
  }
  // Called from ~Session.
  void Remove(Session* session) {
    {
      std::lock_guard lock(mu_);
      sessions_.erase(session);
    }
    empty_.notify_all();
  }
  // Refuses further Adds and returns the sessions alive now.
  std::vector<std::shared_ptr<Session>> Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    return SnapshotLocked();
  }
  std::vector<std::shared_ptr<Session>> Snapshot() {
    std::lock_guard lock(mu_);
    return SnapshotLocked();
  }
  // True when no session is left by `deadline`.
  bool WaitEmpty(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return empty_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
  }
  size_t Size() {
    std::lock_guard lock(mu_);
    return sessions_.size();
  }

 private:
  std::vector<std::shared_ptr<Session>> SnapshotLocked() {
    std::vector<std::shared_ptr<Session>> out;
    for (auto& [ptr, weak] : sessions_) {
      if (auto session = weak.lock()) out.push_back(std::move(session));
    }
    return out;
  }

  std::mutex mu_;
  std::condition_variable empty_;
  bool closed_ = false;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

// What every session shares; owned by Server::Impl, which outlives all sessions.
struct Shared {
  Shared(const RequestPipeline& p, const Logger& l, Limits lim)
      : pipeline(p), logger(l), limits(lim) {}
  const RequestPipeline& pipeline;
  const Logger& logger;
  Limits limits;
  SessionRegistry registry;
  std::atomic<bool> stopping{false};
};

std::string PeerAddress(const tcp::socket& socket) {
  error_code ec;
  tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return "";
  net::ip::address address = peer.address();
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; log them as the IPv4 address.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return address.to_v6().to_v4().to_string();
  }
  return address.to_string();
}

// One connection: read a whole request under a deadline → pipeline → write → repeat (keep-alive).
// All its handlers run on its strand, so its members need no lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared& shared)
      : client_ip_(PeerAddress(socket)), stream_(std::move(socket)), shared_(shared) {}
  ~Session() { shared_.registry.Remove(this); }

  void Run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

  // Graceful stop: an idle (or half-read) connection is closed now; one whose request is being
  // handled or written closes after its response (DoRead sees `stopping`).
  void Shutdown() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->state_ == State::kReading || self->state_ == State::kDraining) {
        self->stream_.cancel();
      }
    });
  }

  // Past the shutdown deadline: close whatever is happening.
  void ForceClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

  // Closes the socket from outside the strand. REQUIRES: no I/O thread is running.
  void CloseNow() { Close(); }

 private:
  enum class State { kReading, kHandling, kWriting, kDraining, kClosed };

  void DoRead() {
    if (shared_.stopping.load()) return Close();
    parser_.emplace();
    parser_->header_limit(shared_.limits.header_limit);
    parser_->body_limit(shared_.limits.body_limit);
    state_ = State::kReading;
    // One deadline for the whole request, header and body: a client that trickles bytes cannot
    // hold the connection longer than read_timeout (Beast's timer spans every read started before
    // it is reset).
    stream_.expires_after(shared_.limits.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    // Clients such as curl wait (about 1 s) for "100 Continue" before sending a large body.
    // The header passed the body limit check (Content-Length), so invite the body now.
    auto expect = header.find(http::field::expect);
    if (!parser_->is_done() && header.version() >= 11 && expect != header.end() &&
        beast::iequals(expect->value(), "100-continue")) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue, sizeof kContinue - 1),
                       [self = shared_from_this()](error_code write_ec, size_t) {
                         if (write_ec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    state_ = State::kHandling;
    // Handler time is not the client's fault; the write gets its own deadline.
    stream_.expires_never();
    try {
      http::request<http::string_body> message = parser_->release();
      HttpRequest request;
      request.method = std::string(ToStd(message.method_string()));
      SetTarget(&request, ToStd(message.target()));
      for (const auto& field : message) {
        request.headers.Add(ToStd(field.name_string()), ToStd(field.value()));
      }
      request.body = std::move(message.body());
      request.client_ip = client_ip_;
      bool head = message.method() == http::verb::head;
      HttpResponse response = shared_.pipeline.Handle(request);
      // Decided after the handler: a shutdown that began meanwhile must say "Connection: close".
      bool keep_alive = message.keep_alive() && !shared_.stopping.load();
      Send(std::move(response), message.version(), keep_alive, head, /*linger=*/false);
    } catch (const std::exception& e) {
      // Only allocation failure can get here (the pipeline catches handler exceptions).
      shared_.logger.Error("http session failed", {{"error", e.what()}, {"client_ip", client_ip_}});
      Close();
    }
  }

  void OnReadError(error_code ec) {
    if (ec == http::error::end_of_stream) return Close();  // client closed between requests
    if (ec == beast::error::timeout) {
      shared_.logger.Debug("http read deadline passed; closing connection",
                           {{"client_ip", client_ip_}});
      return Close();
    }
    if (ec == net::error::operation_aborted || ec == http::error::partial_message) {
      return Close();
    }
    if (ec.category() != http::make_error_code(http::error::bad_target).category()) {
      return Close();  // a network error: nobody to answer
    }
    HttpResponse error;
    if (ec == http::error::body_limit) {
      error = ErrorResponse(
          413, "payload_too_large",
          "request body exceeds " + std::to_string(shared_.limits.body_limit) + " bytes");
    } else if (ec == http::error::header_limit) {
      error = ErrorResponse(
          431, "request_header_fields_too_large",
          "request header exceeds " + std::to_string(shared_.limits.header_limit) + " bytes");
    } else {
      error = ErrorResponse(400, "bad_request", "malformed http request: " + ec.message());
    }
    try {
      HttpRequest request;
      request.client_ip = client_ip_;
      unsigned version = 11;
      if (parser_->is_header_done()) {
        const auto& header = parser_->get();
        request.method = std::string(ToStd(header.method_string()));
        SetTarget(&request, ToStd(header.target()));
        for (const auto& field : header) {
          request.headers.Add(ToStd(field.name_string()), ToStd(field.value()));
        }
        version = header.version();
      }
      HttpResponse response = shared_.pipeline.Reject(request, std::move(error));
      // The stream is no longer in a known state: answer, then close.
      Send(std::move(response), version, /*keep_alive=*/false, /*head=*/false, /*linger=*/true);
    } catch (const std::exception&) {
      Close();
    }
  }

  void Send(HttpResponse response, unsigned version, bool keep_alive, bool head, bool linger) {
    auto& res = response_.emplace();
    res.version(version);
    int status = response.status >= 100 && response.status <= 999 ? response.status : 500;
    res.result(static_cast<unsigned>(status));
    for (const auto& [name, value] : response.headers.entries()) res.insert(name, value);
    bool no_body = status < 200 || status == 204 || status == 304;
    if (!response.content_type.empty() && !no_body) {
      res.set(http::field::content_type, response.content_type);
    }
    res.keep_alive(keep_alive);
    if (no_body) {
      // RFC 9110 §8.6: no Content-Length on 1xx/204/304; the body stays empty.
    } else if (head) {
      res.content_length(response.body.size());
    } else {
      res.body() = std::move(response.body);
      res.prepare_payload();
    }
    state_ = State::kWriting;
    stream_.expires_after(shared_.limits.write_timeout);
    http::async_write(
        stream_, res,
        beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive, linger));
  }

  void OnWrite(bool keep_alive, bool linger, error_code ec, size_t) {
    response_.reset();
    if (ec) return Close();
    if (linger) return LingeringClose();
    if (!keep_alive) return Close();
    DoRead();
  }

  void LingeringClose() {
    state_ = State::kDraining;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    drain_buffer_.resize(kDrainChunkBytes);
    drained_ = 0;
    stream_.expires_after(shared_.limits.linger_timeout);
    DoDrain();
  }

  void DoDrain() {
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxLingerBytes) return self->Close();
                              self->DoDrain();
                            });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  const std::string client_ip_;
  beast::tcp_stream stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::vector<char> drain_buffer_;
  size_t drained_ = 0;
  State state_ = State::kReading;
};

// Accepts connections and starts a Session for each.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, tcp::acceptor acceptor, Shared& shared)
      : ioc_(ioc),
        acceptor_(std::move(acceptor)),
        retry_timer_(acceptor_.get_executor()),
        shared_(shared) {}

  void Run() { DoAccept(); }

  // Closes the acceptor from outside its strand. REQUIRES: no I/O thread is running.
  void CloseNow() {
    error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
  }

  // Stops accepting (runs on the acceptor's strand).
  void Close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      error_code ec;
      self->acceptor_.close(ec);
      self->retry_timer_.cancel();
    });
  }

 private:
  void DoAccept() {
    // Each connection gets its own strand so its handlers never run concurrently.
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  void OnAccept(error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Typically EMFILE/ENFILE: retrying at once would spin; wait a little and let
      // connections close.
      shared_.logger.Warn("http accept failed", {{"error", ec.message()}});
      retry_timer_.expires_after(std::chrono::milliseconds(50));
      retry_timer_.async_wait([self = shared_from_this()](error_code timer_ec) {
        if (!timer_ec && self->acceptor_.is_open()) self->DoAccept();
      });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(std::move(socket), shared_);
    if (shared_.registry.Add(session)) session->Run();
    DoAccept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  Shared& shared_;
};

}  // namespace

class Server::Impl {
 public:
  Impl(const Config::Api& config, const Logger& logger, MetricsRegistry& metrics, Router router,
       PipelineHooks hooks)
      : config_(config),
        logger_(logger),
        pipeline_(std::move(router), PipelineOptions{config.cors_origins, std::move(hooks)}, logger,
                  metrics),
        shared_(pipeline_, logger, MakeLimits(config)),
        ioc_(std::max(1, config.threads)) {}

  Status Start() {
    std::lock_guard lock(stop_mu_);
    if (started_ || stopped_) return FailedPrecondition("api server already started or stopped");
    std::string where = config_.host + ":" + std::to_string(config_.port);

    error_code ec;
    net::ip::address address = net::ip::make_address(config_.host, ec);
    if (ec) {
      tcp::resolver resolver(ioc_);
      auto results = resolver.resolve(config_.host, "", ec);
      if (ec || results.empty()) {
        return InvalidArgument("cannot resolve api.host '" + config_.host + "'",
                               "set api.host to an IP address such as 127.0.0.1 or 0.0.0.0");
      }
      address = results.begin()->endpoint().address();
    }
    tcp::endpoint endpoint(address, static_cast<unsigned short>(config_.port));

    tcp::acceptor acceptor(net::make_strand(ioc_));
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (ec == net::error::address_in_use) {
      return Unavailable("cannot listen on " + where + ": address already in use",
                         "another process holds the port (see `ss -ltnp 'sport = :" +
                             std::to_string(config_.port) +
                             "'`); stop it or choose another port with api.port / AURI_API_PORT");
    }
    if (ec == net::error::access_denied) {
      return Unavailable("cannot listen on " + where + ": permission denied",
                         "ports below 1024 need privileges; choose api.port >= 1024");
    }
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable("cannot listen on " + where + ": " + ec.message(),
                         "check api.host is an address of this machine");
    }
    port_.store(acceptor.local_endpoint(ec).port());

    listener_ = std::make_shared<Listener>(ioc_, std::move(acceptor), shared_);
    listener_->Run();
    int threads = std::max(1, config_.threads);
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { RunIoThread(); });
    started_ = true;
    logger_.Info("api listening", {{"host", config_.host},
                                   {"port", port_.load()},
                                   {"threads", threads},
                                   {"body_limit_bytes", config_.body_limit_bytes},
                                   {"read_timeout_seconds", config_.read_timeout_seconds}});
    return Status::Ok();
  }

  int port() const { return port_.load(); }

  Status Stop(std::chrono::milliseconds deadline) {
    std::lock_guard lock(stop_mu_);
    if (!started_ || stopped_) {
      stopped_ = true;
      RequestStop();
      return Status::Ok();
    }
    stopped_ = true;
    auto until = std::chrono::steady_clock::now() + deadline;
    logger_.Info("api stopping",
                 {{"open_connections", static_cast<uint64_t>(shared_.registry.Size())}});

    // Order matters: first refuse new connections, then tell every existing one to finish, so no
    // connection can slip in between and be left running.
    shared_.stopping.store(true);
    listener_->Close();
    for (auto& session : shared_.registry.Close()) session->Shutdown();

    Status result;
    if (!shared_.registry.WaitEmpty(until)) {
      size_t left = shared_.registry.Size();
      result = DeadlineExceeded(std::to_string(left) +
                                    " connection(s) still busy after the shutdown deadline of " +
                                    std::to_string(deadline.count()) + " ms were closed",
                                "raise api.shutdown_timeout_seconds if requests need longer");
      logger_.Warn("api shutdown deadline passed; closing connections",
                   {{"connections", static_cast<uint64_t>(left)}});
      for (auto& session : shared_.registry.Snapshot()) session->ForceClose();
      shared_.registry.WaitEmpty(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    }
    ioc_.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    // Handlers posted above may not have run before the threads stopped. With no thread left,
    // sockets can be closed directly, so clients see the close now rather than when the Server is
    // destroyed, and nothing stays listening on the port.
    listener_->CloseNow();
    for (auto& session : shared_.registry.Snapshot()) session->CloseNow();
    RequestStop();
    logger_.Info("api stopped", {{"graceful", result.ok()}});
    return result;
  }

  Status RunUntilSignal() {
    {
      std::lock_guard lock(stop_mu_);
      if (!started_) return FailedPrecondition("api server not started");
    }
    net::signal_set signals(ioc_, SIGINT, SIGTERM);
    signals.async_wait([this](const error_code& ec, int signal_number) {
      if (ec) return;
      logger_.Info("api received signal; shutting down", {{"signal", signal_number}});
      RequestStop();
    });
    {
      std::unique_lock lock(signal_mu_);
      signal_cv_.wait(lock, [this] { return stop_requested_; });
    }
    error_code ignored;
    signals.cancel(ignored);
    return Stop(std::chrono::seconds(config_.shutdown_timeout_seconds));
  }

  std::chrono::milliseconds shutdown_timeout() const {
    return std::chrono::seconds(config_.shutdown_timeout_seconds);
  }

 private:
  static Limits MakeLimits(const Config::Api& config) {
    std::chrono::seconds read_timeout(std::max(1, config.read_timeout_seconds));
    return Limits{read_timeout, read_timeout, std::min(read_timeout, kMaxLingerTime),
                  static_cast<uint32_t>(std::max(1, config.header_limit_bytes)),
                  static_cast<uint64_t>(std::max(0, config.body_limit_bytes))};
  }

  void RunIoThread() {
    // Handlers do not throw (errors are values, the pipeline catches handler exceptions); this is
    // the backstop that keeps a thread serving if that is ever wrong.
    while (true) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        logger_.Error("api io thread caught an exception", {{"error", e.what()}});
      } catch (...) {
        logger_.Error("api io thread caught a non-standard exception");
      }
    }
  }

  void RequestStop() {
    {
      std::lock_guard lock(signal_mu_);
      stop_requested_ = true;
    }
    signal_cv_.notify_all();
  }

  const Config::Api config_;
  const Logger& logger_;
  RequestPipeline pipeline_;
  Shared shared_;
  std::atomic<int> port_{0};

  std::mutex stop_mu_;  // serializes Start and Stop
  bool started_ = false;
  bool stopped_ = false;

  std::mutex signal_mu_;
  std::condition_variable signal_cv_;
  bool stop_requested_ = false;

  // Declared last: destroyed first, taking pending handlers (and the sessions they hold) with it
  // while the members above are still alive.
  net::io_context ioc_;
  std::shared_ptr<Listener> listener_;
  std::vector<std::thread> threads_;
};

Server::Server(const Config::Api& config, const Logger& logger, MetricsRegistry& metrics,
               Router router, PipelineHooks hooks)
    : impl_(std::make_unique<Impl>(config, logger, metrics, std::move(router), std::move(hooks))) {}

Server::~Server() {
  try {
    (void)impl_->Stop(impl_->shutdown_timeout());
  } catch (...) {
    // Stop only throws on allocation failure or a failed thread join; a destructor cannot report
    // either, and the process is going down with this server anyway.
  }
}

Status Server::Start() { return impl_->Start(); }
int Server::port() const { return impl_->port(); }
Status Server::Stop(std::chrono::milliseconds deadline) { return impl_->Stop(deadline); }
Status Server::Stop() { return impl_->Stop(impl_->shutdown_timeout()); }
Status Server::RunUntilSignal() { return impl_->RunUntilSignal(); }

}  // namespace auri::api
