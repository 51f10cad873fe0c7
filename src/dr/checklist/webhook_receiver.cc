#include "dr/checklist/webhook_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace auri::dr {
namespace {

constexpr size_t kMaxRequest = size_t{1} << 20;

// Reads one request (headers + Content-Length body) with a deadline.
bool ReadRequest(int fd, ReceivedRequest* out) {
  std::string data;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  char buf[16384];
  while (true) {
    if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || data.size() > kMaxRequest) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string head = data.substr(0, header_end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t cl = head.find("content-length:");
        if (cl != std::string::npos) {
          content_length = std::strtoul(head.c_str() + cl + 15, nullptr, 10);
          if (content_length > kMaxRequest) return false;
        }
      }
    }
  }
  size_t first_line = data.find("\r\n");
  out->request_line = data.substr(0, first_line);
  out->headers = data.substr(first_line + 2, header_end - first_line - 2);
  out->body = data.substr(header_end + 4, content_length);
  return true;
}

}  // namespace

WebhookReceiver::~WebhookReceiver() { Stop(); }

Status WebhookReceiver::Start(int port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Unavailable("webhook receiver: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Unavailable("webhook receiver: cannot listen on 127.0.0.1:" + std::to_string(port),
                       "is the port in use? pick another with --port");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
  return Status::Ok();
}

void WebhookReceiver::Stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void WebhookReceiver::Serve() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;  // wakes every 100 ms to notice Stop()
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ReceivedRequest request;
    if (ReadRequest(fd, &request)) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (received_.size() < 10000) received_.push_back(std::move(request));
      }
      static const char kOk[] =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
          "Connection: close\r\n\r\n{}";
      (void)::send(fd, kOk, sizeof kOk - 1, MSG_NOSIGNAL);
    }
    ::close(fd);
  }
}

std::vector<ReceivedRequest> WebhookReceiver::Since(size_t from) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (from >= received_.size()) return {};
  return std::vector<ReceivedRequest>(received_.begin() + static_cast<long>(from), received_.end());
}

std::vector<ReceivedRequest> WebhookReceiver::Matching(const std::string& needle) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ReceivedRequest> out;
  for (const ReceivedRequest& r : received_) {
    if (r.body.find(needle) != std::string::npos) out.push_back(r);
  }
  return out;
}

}  // namespace auri::dr
