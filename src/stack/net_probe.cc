#include "stack/net_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace auri {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    struct pollfd p = {fd, events, 0};
    int r = ::poll(&p, 1, MillisLeft(deadline));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

}  // namespace

Result<std::string> TcpExchange(const std::string& host, int port, const std::string& request,
                                std::chrono::milliseconds timeout,
                                const std::function<bool(const std::string&)>& complete,
                                size_t max_bytes) {
  auto deadline = Clock::now() + timeout;
  std::string where = host + ":" + std::to_string(port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument("not an IPv4 address: " + host);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("socket: " + std::string(std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return Unavailable("connect " + where + ": " + std::strerror(errno));
    if (!WaitFor(fd, POLLOUT, deadline)) return DeadlineExceeded("connect " + where + " timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Unavailable("connect " + where + ": " + std::strerror(err));
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLOUT, deadline))
        return DeadlineExceeded("send to " + where + " timed out");
      continue;
    }
    return Unavailable("send to " + where + ": " + std::strerror(errno));
  }
  std::string buffer;
  char chunk[4096];
  while (buffer.size() < max_bytes) {
    if (complete && complete(buffer)) break;
    if (!WaitFor(fd, POLLIN, deadline))
      return DeadlineExceeded("read from " + where + " timed out");
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Unavailable("read from " + where + ": " + std::strerror(errno));
    }
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return buffer;
}

bool RedisAnswersPing(const std::string& host, int port, std::chrono::milliseconds timeout) {
  auto r = TcpExchange(host, port, "PING\r\n", timeout,
                       [](const std::string& b) { return b.find("\r\n") != std::string::npos; });
  return r.ok() && r->rfind("+PONG", 0) == 0;
}

Result<long> RedisServerPid(const std::string& host, int port, std::chrono::milliseconds timeout) {
  auto complete = [](const std::string& b) {
    auto at = b.find("process_id:");
    return at != std::string::npos && b.find("\r\n", at) != std::string::npos;
  };
  ASSIGN_OR_RETURN(std::string reply,
                   TcpExchange(host, port, "INFO server\r\n", timeout, complete));
  auto at = reply.find("process_id:");
  if (at == std::string::npos) {
    return Internal("redis at " + host + ":" + std::to_string(port) + " did not report its pid");
  }
  return std::atol(reply.c_str() + at + 11);
}

Status CheckPortFree(const std::string& host, int port, const std::string& option) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument(option + ": not an IPv4 address: " + host);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("socket: " + std::string(std::strerror(errno)));
  int one = 1;
  // SO_REUSEADDR as the servers use it: a port in TIME_WAIT is free for them too.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return Unavailable(
        host + ":" + std::to_string(port) + " (" + option + ") is not free: " + std::strerror(err),
        "another process holds it (see `ss -ltnp | grep " + std::to_string(port) + "`); set " +
            option + " to a free port");
  }
  return Status::Ok();
}

Result<HttpProbeResult> HttpGet(const std::string& host, int port, const std::string& path,
                                std::chrono::milliseconds timeout) {
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host +
                        "\r\nConnection: close\r\nUser-Agent: auri-probe\r\n\r\n";
  ASSIGN_OR_RETURN(std::string raw, TcpExchange(host, port, request, timeout));
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) {
    return Internal("not an HTTP answer from " + host + ":" + std::to_string(port));
  }
  HttpProbeResult result;
  result.status = std::atoi(raw.c_str() + 9);
  auto body_at = raw.find("\r\n\r\n");
  if (body_at != std::string::npos) result.body = raw.substr(body_at + 4);
  return result;
}

}  // namespace auri
