#pragma once
// A blocking HTTP/1.1 client call (libcurl easy) for the DR commands that drive the API like a
// user would: `auri verify` and the drills' heartbeat writer. Bounded: connect 2 s, whole call
// `timeout`, response body ≤ 1 MiB.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace auri::dr {

struct HttpReply {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const;
};

// Errors: kUnavailable when no HTTP answer came (refused, timed out, reset), with the URL.
Result<HttpReply> HttpCall(const std::string& method, const std::string& url,
                           const std::vector<std::string>& headers, const std::string& body,
                           std::chrono::milliseconds timeout);

}  // namespace auri::dr
