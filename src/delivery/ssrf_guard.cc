#include "delivery/ssrf_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

namespace auri::delivery {

Result<ParsedUrl> ParseHttpUrl(std::string_view url) {
  if (url.size() > 2048) return InvalidArgument("url longer than 2048 bytes");
  ParsedUrl out;
  auto sep = url.find("://");
  if (sep == std::string_view::npos)
    return InvalidArgument("url has no scheme: " + std::string(url));
  for (char c : url.substr(0, sep)) out.scheme += static_cast<char>(std::tolower(c));
  if (out.scheme != "http" && out.scheme != "https") {
    return InvalidArgument("url scheme must be http or https, got '" + out.scheme + "'");
  }
  std::string_view rest = url.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("url must not contain user info");
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("url has an unclosed [ in host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgument("url has garbage after the IPv6 host");
      port = after.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return InvalidArgument("url has no host");
  for (char c : host) out.host += static_cast<char>(std::tolower(c));
  if (port.empty()) {
    out.port = out.scheme == "https" ? 443 : 80;
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) {
      return InvalidArgument("url port is not a number");
    }
    out.port = std::stoi(std::string(port));
    if (out.port < 1 || out.port > 65535) return InvalidArgument("url port out of range");
  }
  return out;
}

namespace {

bool IsPrivateV4(uint32_t a) {  // host byte order
  auto in = [a](uint32_t net, int bits) {
    uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    return (a & mask) == (net & mask);
  };
  return in(0x00000000, 8) ||   // 0.0.0.0/8 "this network", incl. unspecified
         in(0x0A000000, 8) ||   // 10/8
         in(0x64400000, 10) ||  // 100.64/10 carrier-grade NAT
         in(0x7F000000, 8) ||   // loopback
         in(0xA9FE0000, 16) ||  // 169.254/16 link-local, incl. 169.254.169.254 metadata
         in(0xAC100000, 12) ||  // 172.16/12
         in(0xC0A80000, 16) ||  // 192.168/16
         in(0xE0000000, 4) ||   // multicast
         in(0xF0000000, 4);     // reserved + broadcast
}

}  // namespace

bool IsPrivateAddress(std::string_view address) {
  std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return IsPrivateV4(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return true;
  const uint8_t* b = v6.s6_addr;
  static const uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated compatible form: judge the IPv4 address.
  bool mapped = std::memcmp(b, kZero, 10) == 0 && b[10] == 0xff && b[11] == 0xff;
  if (mapped) {
    return IsPrivateV4(uint32_t{b[12]} << 24 | uint32_t{b[13]} << 16 | uint32_t{b[14]} << 8 |
                       b[15]);
  }
  if ((b[0] & 0xfe) == 0xfc) return true;                  // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;  // fec0::/10 site-local (deprecated)
  if (b[0] == 0xff) return true;                           // multicast
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {  // 64:ff9b::/96 NAT64
    return IsPrivateV4(uint32_t{b[12]} << 24 | uint32_t{b[13]} << 16 | uint32_t{b[14]} << 8 |
                       b[15]);
  }
  return false;
}

bool IsLoopbackAddress(std::string_view address) {
  std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  const uint8_t* b = v6.s6_addr;
  static const uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 15) == 0 && b[15] == 1) return true;
  return std::memcmp(b, kZero, 10) == 0 && b[10] == 0xff && b[11] == 0xff && b[12] == 127;
}

Result<CheckedDestination> CheckDestination(const ParsedUrl& url, PrivateDestinations policy) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int rc = getaddrinfo(url.host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    return Unavailable("cannot resolve " + url.host + ": " + gai_strerror(rc));
  }
  std::vector<std::string> addresses;
  for (addrinfo* p = list; p != nullptr; p = p->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (p->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, buf, sizeof buf);
    } else if (p->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, buf, sizeof buf);
    } else {
      continue;
    }
    addresses.emplace_back(buf);
  }
  freeaddrinfo(list);
  if (addresses.empty()) return Unavailable("cannot resolve " + url.host + ": no address");
  if (policy != PrivateDestinations::kAllow) {
    // Every address, not only the first: a name with one public and one private address would
    // otherwise reach the private one whenever the resolver's order changes.
    for (const std::string& a : addresses) {
      bool allowed_loopback = policy == PrivateDestinations::kAllowLoopback && IsLoopbackAddress(a);
      if (IsPrivateAddress(a) && !allowed_loopback) {
        return PermissionDenied("destination " + url.host + " resolves to private address " + a,
                                "set delivery.allow_private_destinations = true to allow it");
      }
    }
  }
  return CheckedDestination{url, addresses.front()};
}

}  // namespace auri::delivery
