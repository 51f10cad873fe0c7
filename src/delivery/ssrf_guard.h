#pragma once
// SSRF guard for outgoing deliveries (spec 30-delivery.md, "webhook"): parse the URL, resolve the
// host ONCE, refuse when any address is private, and hand back the checked address so the
// connection goes there and nowhere else (no second DNS lookup the attacker could answer
// differently).
#include <string>
#include <string_view>

#include "common/result.h"

namespace auri::delivery {

struct ParsedUrl {
  std::string scheme;  // "http" | "https"
  std::string host;    // without brackets for IPv6 literals, lowercase
  int port = 0;        // explicit or the scheme's default
};

// Accepts absolute http/https URLs of at most 2048 bytes with a host. No user-info ("a@b" is a
// classic confusion trick). Errors: kInvalidArgument saying what is wrong.
Result<ParsedUrl> ParseHttpUrl(std::string_view url);

// True for addresses a delivery must not reach unless private destinations are allowed:
// loopback, RFC 1918, CGNAT 100.64/10, fc00::/7, link-local (incl. 169.254.169.254 metadata),
// multicast, unspecified, broadcast, IPv4-mapped forms of those, and "this network" 0/8.
// `address` is a numeric IPv4 or IPv6 string; an unparsable string counts as private.
bool IsPrivateAddress(std::string_view address);

// Which private destinations are allowed.
enum class PrivateDestinations {
  kRefuse,         // none (production default)
  kAllowLoopback,  // loopback only (the embedded `auri up` stack: a local receiver)
  kAllow,          // all (delivery.allow_private_destinations = true; tests)
};

// True for loopback addresses (127/8, ::1, ::ffff:127/104).
bool IsLoopbackAddress(std::string_view address);

struct CheckedDestination {
  ParsedUrl url;
  std::string address;  // numeric address the connection must use
};

// Resolves url.host (getaddrinfo; numeric hosts are not looked up) and checks EVERY address.
// Errors: kPermissionDenied "destination <host> resolves to private address <a>" when one is
// private and `policy` does not allow it; kUnavailable when the name does not resolve (retryable:
// DNS may be down). Returns the first address otherwise.
Result<CheckedDestination> CheckDestination(const ParsedUrl& url, PrivateDestinations policy);

}  // namespace auri::delivery
