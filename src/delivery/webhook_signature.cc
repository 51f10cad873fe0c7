#include "delivery/webhook_signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/random.h"

namespace auri::delivery {

Result<std::string> DecodeSigningSecret(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) == kPrefix) secret.remove_prefix(kPrefix.size());
  std::string key;
  if (!Base64Decode(secret, &key) || key.empty()) {
    return InvalidArgument("webhook signing secret is not whsec_<base64>",
                           "rotate webhook-signing-secret to a well-formed value");
  }
  return key;
}

std::string SignWebhook(std::string_view key, std::string_view id, int64_t timestamp,
                        std::string_view body) {
  std::string message;
  message.reserve(id.size() + body.size() + 24);
  message.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  return "v1," + Base64Encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::string SignatureHeader(const std::vector<std::string>& keys, std::string_view id,
                            int64_t timestamp, std::string_view body) {
  std::string out;
  for (const std::string& key : keys) {
    if (!out.empty()) out += ' ';
    out += SignWebhook(key, id, timestamp, body);
  }
  return out;
}

}  // namespace auri::delivery
