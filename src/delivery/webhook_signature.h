#pragma once
// Standard Webhooks 1.0 signatures (https://www.standardwebhooks.com): the `webhook-signature`
// header value for one message.
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace auri::delivery {

// Decodes a signing secret in the standard form "whsec_<base64 key>" (the prefix is optional, as in
// the reference libraries) to the raw HMAC key. Errors: kInvalidArgument when the base64 is
// invalid or the key is empty.
Result<std::string> DecodeSigningSecret(std::string_view secret);

// "v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>" with `key` the raw key bytes.
std::string SignWebhook(std::string_view key, std::string_view id, int64_t timestamp,
                        std::string_view body);

// The header value for several keys (current first, then previous during a rotation): their
// signatures separated by single spaces, as the specification allows.
std::string SignatureHeader(const std::vector<std::string>& keys, std::string_view id,
                            int64_t timestamp, std::string_view body);

}  // namespace auri::delivery
