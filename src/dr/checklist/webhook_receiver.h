#pragma once
// A one-purpose HTTP server on 127.0.0.1 for `auri verify` and the drills: it answers every
// request 200 and remembers each request's body and headers, so a command can prove the action
// workers delivered its probe's webhook. Not a general server: one thread, one request per
// connection, requests ≤ 1 MiB, a 5 s read deadline per connection. `auri dev webhook-receiver`
// runs one in the foreground so a user can watch deliveries while trying Auri.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace auri::dr {

struct ReceivedRequest {
  std::string request_line;  // "POST /probe HTTP/1.1"
  std::string headers;       // raw header block
  std::string body;
};

class WebhookReceiver {
 public:
  WebhookReceiver() = default;
  ~WebhookReceiver();  // stops the server
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // Binds 127.0.0.1:`port` (0 = an ephemeral port) and starts serving. Errors: kUnavailable.
  Status Start(int port = 0);
  void Stop();
  int port() const { return port_; }
  // The requests received so far whose body contains `needle`.
  std::vector<ReceivedRequest> Matching(const std::string& needle) const;
  // The requests received so far, from the `from`-th on (for printing them as they arrive).
  std::vector<ReceivedRequest> Since(size_t from) const;

 private:
  void Serve();
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> received_;
};

}  // namespace auri::dr
