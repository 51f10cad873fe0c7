#pragma once
// Outgoing HTTP on one event loop (libcurl multi): many requests in flight from one thread, each
// pinned to the address the SSRF guard checked, no redirects, bounded response reads. Not
// thread-safe: one thread calls Add/Poll (the worker loop); Wakeup() may be called from any thread.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace auri::delivery {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::string host;  // as in the URL, lowercase (for the pin and the per-host cap)
  int port = 0;
  std::string address;  // numeric address the connection must go to; empty = no pin (tests only)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{10000};
};

struct HttpResult {
  bool transport_ok = false;  // a response status line was received
  bool timed_out = false;     // connect or total timeout
  std::string error;          // transport error text when !transport_ok
  int status = 0;
  std::string body;         // at most kMaxResponseBytes
  std::string retry_after;  // raw Retry-After header value, empty if absent
  std::chrono::milliseconds duration{0};
};

constexpr size_t kMaxResponseBytes = 64 * 1024;
// Idle keep-alive connections kept for reuse (all destinations together).
constexpr long kMaxIdleConnections = 512;

class HttpDispatcher {
 public:
  using Done = std::function<void(HttpResult)>;
  HttpDispatcher();
  ~HttpDispatcher();  // aborts transfers still in flight (their callbacks are not called)
  HttpDispatcher(const HttpDispatcher&) = delete;
  HttpDispatcher& operator=(const HttpDispatcher&) = delete;

  // Starts `request`; `done` is called from a later Poll() with the outcome.
  void Add(HttpRequest request, Done done);
  // Runs transfers for at most `wait` (returns early when one finishes or Wakeup() is called) and
  // calls the callbacks of those that finished.
  void Poll(std::chrono::milliseconds wait);
  // Makes a Poll() in progress return now. Thread-safe.
  void Wakeup();

  int in_flight() const;
  // Transfers in flight to `host`.
  int in_flight_to(const std::string& host) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace auri::delivery
