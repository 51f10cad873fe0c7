#include "auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/random.h"

namespace auri {
namespace {

using nlohmann::json;

constexpr size_t kHs256Bytes = 32;
constexpr size_t kMaxKidChars = 64;
// 9999-12-31T23:59:59Z: NumericDates past this are nonsense, and bounding them keeps the
// seconds → milliseconds arithmetic below far from overflow.
constexpr int64_t kMaxNumericDate = 253402300799;

Status InvalidToken(std::string_view reason) {
  return Unauthenticated("invalid token: " + std::string(reason));
}

// Strict base64url as JWS requires (RFC 7515 §2): URL alphabet, no padding, no whitespace, and the
// unused low bits of the last character zero. Strictness matters: a lenient decoder accepts
// several spellings of one signature, so tokens would not be unique strings.
bool Base64UrlDecodeStrict(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 == 1) return false;  // 6 bits cannot end a byte
  out->reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    int v;
    if (ch >= 'A' && ch <= 'Z') {
      v = ch - 'A';
    } else if (ch >= 'a' && ch <= 'z') {
      v = ch - 'a' + 26;
    } else if (ch >= '0' && ch <= '9') {
      v = ch - '0' + 52;
    } else if (ch == '-') {
      v = 62;
    } else if (ch == '_') {
      v = 63;
    } else {
      return false;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;  // leftover bits must be zero (canonical form)
}

bool Hs256Raw(std::string_view signing_input, std::string_view key,
              unsigned char (&mac)[kHs256Bytes]) {
  unsigned int len = 0;
  // An empty key is legal HMAC but OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
  unsigned char* result = HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
                               reinterpret_cast<const unsigned char*>(signing_input.data()),
                               signing_input.size(), mac, &len);
  return result != nullptr && len == kHs256Bytes;
}

// Parses base64url JSON that must be an object; false on any defect.
bool DecodeJsonObject(std::string_view part, json* out) {
  std::string text;
  if (!Base64UrlDecodeStrict(part, &text)) return false;
  // allow_exceptions = false: a parse error yields `discarded` instead of throwing.
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return false;
  *out = std::move(parsed);
  return true;
}

// The string member `name` of `object`, or nullptr if absent or not a string.
const std::string* StringMember(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

enum class Member { kOk, kMissing, kBadType };

// An integer NumericDate member within [0, kMaxNumericDate]. Fractional dates are refused: we never
// issue them, and refusing them keeps every comparison in integers.
Member NumericDateMember(const json& object, const char* name, int64_t* out) {
  auto it = object.find(name);
  if (it == object.end()) return Member::kMissing;
  if (!it->is_number_integer()) return Member::kBadType;
  if (it->is_number_unsigned()) {
    uint64_t u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(kMaxNumericDate)) return Member::kBadType;
    *out = static_cast<int64_t>(u);
  } else {
    *out = it->get<int64_t>();
  }
  if (*out < 0 || *out > kMaxNumericDate) return Member::kBadType;
  return Member::kOk;
}

Status CheckKid(const std::string& kid) {
  if (kid.empty() || kid.size() > kMaxKidChars) {
    return InvalidArgument("jwt key id must be 1.." + std::to_string(kMaxKidChars) + " characters");
  }
  return Status::Ok();
}

}  // namespace

JwtClaims NewAccessTokenClaims(std::string sub, std::string username, int64_t now_ms) {
  JwtClaims claims;
  claims.sub = std::move(sub);
  claims.username = std::move(username);
  // Floor division, so a pre-1970 clock (never expected) still rounds towards the past.
  claims.iat = now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000;
  claims.exp = claims.iat + kAccessTokenLifetimeSeconds;
  return claims;
}

Result<std::string> Hs256Signature(std::string_view signing_input, std::string_view key) {
  unsigned char mac[kHs256Bytes];
  if (!Hs256Raw(signing_input, key, mac)) return Internal("hmac-sha256 failed (openssl)");
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
}

Result<JwtKeyRing> JwtKeyRing::Create(JwtKey signing, std::vector<JwtKey> verify_only) {
  std::vector<JwtKey> keys;
  keys.reserve(verify_only.size() + 1);
  keys.push_back(std::move(signing));
  for (JwtKey& key : verify_only) keys.push_back(std::move(key));
  for (size_t i = 0; i < keys.size(); ++i) {
    RETURN_IF_ERROR(CheckKid(keys[i].kid));
    if (keys[i].secret.size() < kMinJwtKeyBytes) {
      return InvalidArgument("jwt key " + keys[i].kid + " is shorter than " +
                             std::to_string(kMinJwtKeyBytes) + " bytes");
    }
    for (size_t j = 0; j < i; ++j) {
      if (keys[j].kid == keys[i].kid) {
        return InvalidArgument("jwt key id " + keys[i].kid + " appears twice in the key ring");
      }
    }
  }
  return JwtKeyRing(std::move(keys));
}

std::vector<std::string> JwtKeyRing::kids() const {
  std::vector<std::string> out;
  for (const JwtKey& key : keys_) out.push_back(key.kid);
  return out;
}

Result<std::string> JwtKeyRing::Sign(const JwtClaims& claims) const {
  const JwtKey& key = keys_.front();
  json header = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", key.kid}};
  json body = {
      {"sub", claims.sub}, {"username", claims.username}, {"iat", claims.iat}, {"exp", claims.exp}};
  // error_handler_t::replace: invalid UTF-8 in a username becomes U+FFFD instead of an exception.
  auto dump = [](const json& j) {
    return j.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
  };
  std::string signing_input = Base64UrlEncode(dump(header)) + "." + Base64UrlEncode(dump(body));
  ASSIGN_OR_RETURN(std::string signature, Hs256Signature(signing_input, key.secret.reveal()));
  return signing_input + "." + signature;
}

Result<JwtClaims> JwtKeyRing::Verify(std::string_view token, int64_t now_ms) const {
  // Size first: nothing below should spend work on a hostile megabyte.
  if (token.size() > kMaxJwtBytes) {
    return InvalidToken("token is longer than " + std::to_string(kMaxJwtBytes) + " bytes");
  }
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return InvalidToken("malformed token: expected three dot-separated parts");
  }
  std::string_view header_part = token.substr(0, dot1);
  std::string_view claims_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_part = token.substr(dot2 + 1);

  // Header: decide the algorithm and key before looking at anything the signature protects, and
  // never let the token choose the algorithm (no "none", no RS256-with-HMAC-key confusion).
  json header;
  if (!DecodeJsonObject(header_part, &header)) return InvalidToken("malformed token header");
  const std::string* alg = StringMember(header, "alg");
  if (alg == nullptr || *alg != "HS256") return InvalidToken("unsupported alg: only HS256");
  if (header.contains("typ")) {
    const std::string* typ = StringMember(header, "typ");
    if (typ == nullptr || *typ != "JWT") return InvalidToken("unsupported typ: only JWT");
  }
  // RFC 7515 §4.1.11: extensions we do not understand, listed as critical, must be rejected.
  if (header.contains("crit")) return InvalidToken("unsupported crit header");
  if (!header.contains("kid")) return InvalidToken("token has no kid");
  const std::string* kid = StringMember(header, "kid");
  if (kid == nullptr) return InvalidToken("malformed kid");

  const JwtKey* key = nullptr;
  for (const JwtKey& candidate : keys_) {
    if (candidate.kid == *kid) key = &candidate;
  }
  if (key == nullptr) return InvalidToken("unknown signing key");
  if (key->not_after_ms && now_ms >= *key->not_after_ms) {
    return InvalidToken("signing key is no longer accepted");
  }

  std::string signature;
  if (!Base64UrlDecodeStrict(signature_part, &signature) || signature.size() != kHs256Bytes) {
    return InvalidToken("malformed signature");
  }
  unsigned char expected[kHs256Bytes];
  if (!Hs256Raw(token.substr(0, dot2), key->secret.reveal(), expected)) {
    return Internal("hmac-sha256 failed (openssl)");
  }
  if (CRYPTO_memcmp(expected, signature.data(), kHs256Bytes) != 0) {
    return InvalidToken("bad signature");
  }

  // Claims: signed by one of our keys, but still checked strictly (types, presence, time).
  json body;
  if (!DecodeJsonObject(claims_part, &body)) return InvalidToken("malformed token claims");
  JwtClaims claims;
  const std::string* sub = StringMember(body, "sub");
  const std::string* username = StringMember(body, "username");
  if (sub == nullptr || sub->empty()) return InvalidToken("missing or malformed claim sub");
  if (username == nullptr) return InvalidToken("missing or malformed claim username");
  claims.sub = *sub;
  claims.username = *username;
  if (NumericDateMember(body, "exp", &claims.exp) != Member::kOk) {
    return InvalidToken("missing or malformed claim exp");
  }
  if (NumericDateMember(body, "iat", &claims.iat) != Member::kOk) {
    return InvalidToken("missing or malformed claim iat");
  }
  int64_t nbf = 0;
  Member nbf_member = NumericDateMember(body, "nbf", &nbf);
  if (nbf_member == Member::kBadType) return InvalidToken("malformed claim nbf");

  constexpr int64_t kLeewayMs = kJwtLeewaySeconds * 1000;
  if (now_ms >= claims.exp * 1000 + kLeewayMs) return InvalidToken("token expired");
  if (claims.iat * 1000 > now_ms + kLeewayMs) return InvalidToken("token issued in the future");
  if (nbf_member == Member::kOk && nbf * 1000 > now_ms + kLeewayMs) {
    return InvalidToken("token not yet valid");
  }
  return claims;
}

Result<JwtKeyRing> LoadJwtKeyRing(const SecretStore& store, int64_t now_ms) {
  const std::string name(kJwtSigningKeySecret);
  const std::string rotate_hint = "rotate it: auri secrets rotate " + name;

  Result<SecretVersion> current = store.Get(name, Label::kCurrent);
  if (!current.ok()) {
    if (current.status().code() == StatusCode::kNotFound) {
      return FailedPrecondition(
          "secret " + name + " has no current version",
          "create it: auri secrets rotate " + name + " (auri up creates it on first start)");
    }
    return current.status().WithContext("loading the jwt key ring");
  }
  const VersionInfo& info = current->info;
  const std::string which = name + " version " + std::to_string(info.version);
  if (info.key_id.empty()) return FailedPrecondition(which + " has no key id", rotate_hint);
  if (current->value.size() < kMinJwtKeyBytes) {
    return FailedPrecondition(
        which + " is shorter than " + std::to_string(kMinJwtKeyBytes) + " bytes", rotate_hint);
  }
  if (info.not_after_ms && now_ms >= *info.not_after_ms) {
    return FailedPrecondition(which + " (current) is past its not_after", rotate_hint);
  }
  JwtKey signing{info.key_id, current->value, info.not_after_ms};

  std::vector<JwtKey> verify_only;
  Result<SecretVersion> previous = store.Get(name, Label::kPrevious);
  if (!previous.ok() && previous.status().code() != StatusCode::kNotFound) {
    return previous.status().WithContext("loading the jwt key ring");
  }
  // Skipped rather than refused: a previous version without a key id or with a short value was
  // never a valid signing key here, so no token of ours can need it. The same version under both
  // labels happens when a rotation lands between the two reads; the cache reloads right after,
  // because the generation it recorded before loading has changed.
  if (previous.ok() && previous->info.version != info.version && !previous->info.key_id.empty() &&
      previous->value.size() >= kMinJwtKeyBytes &&
      !(previous->info.not_after_ms && now_ms >= *previous->info.not_after_ms)) {
    verify_only.push_back(
        JwtKey{previous->info.key_id, previous->value, previous->info.not_after_ms});
  }
  return JwtKeyRing::Create(std::move(signing), std::move(verify_only));
}

JwtKeyRingCache::JwtKeyRingCache(const SecretStore& store, const Clock& clock,
                                 int64_t check_interval_ms)
    : store_(store), clock_(clock), check_interval_ms_(check_interval_ms) {}

Result<std::unique_ptr<JwtKeyRingCache>> JwtKeyRingCache::Create(const SecretStore& store,
                                                                 const Clock& clock,
                                                                 int64_t check_interval_ms) {
  if (check_interval_ms < 0) return InvalidArgument("jwt key ring check interval must be >= 0 ms");
  std::unique_ptr<JwtKeyRingCache> cache(new JwtKeyRingCache(store, clock, check_interval_ms));
  // The generation is read before the ring: if a write lands in between, the first check sees a
  // newer generation and loads again, rather than keeping a stale ring forever.
  ASSIGN_OR_RETURN(cache->generation_, store.Generation());
  ASSIGN_OR_RETURN(JwtKeyRing ring, LoadJwtKeyRing(store, clock.UnixMillis()));
  cache->ring_ = std::make_shared<const JwtKeyRing>(std::move(ring));
  cache->next_check_steady_ms_.store(cache->SteadyMillis() + check_interval_ms);
  return cache;
}

int64_t JwtKeyRingCache::SteadyMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock_.SteadyNow().time_since_epoch())
      .count();
}

std::shared_ptr<const JwtKeyRing> JwtKeyRingCache::Current() {
  int64_t now = SteadyMillis();
  if (now >= next_check_steady_ms_.load(std::memory_order_acquire)) {
    // One thread checks; the others go on with the ring they have rather than queue behind file
    // reads on the request path.
    std::unique_lock<std::mutex> reload(reload_mu_, std::try_to_lock);
    if (reload.owns_lock() && now >= next_check_steady_ms_.load(std::memory_order_acquire)) {
      next_check_steady_ms_.store(now + check_interval_ms_, std::memory_order_release);
      ReloadIfChanged();
    }
  }
  std::lock_guard<std::mutex> lock(ring_mu_);
  return ring_;
}

void JwtKeyRingCache::ReloadIfChanged() {
  Result<uint64_t> generation = store_.Generation();
  if (!generation.ok()) {
    std::lock_guard<std::mutex> lock(ring_mu_);
    reload_status_ = generation.status().WithContext("checking the jwt key ring for changes");
    return;
  }
  if (*generation == generation_) return;
  Result<JwtKeyRing> ring = LoadJwtKeyRing(store_, clock_.UnixMillis());
  std::lock_guard<std::mutex> lock(ring_mu_);
  if (!ring.ok()) {
    // generation_ stays old, so the next check tries again.
    reload_status_ = ring.status().WithContext("reloading the jwt key ring");
    return;
  }
  generation_ = *generation;
  ring_ = std::make_shared<const JwtKeyRing>(std::move(ring).value());
  reload_status_ = Status::Ok();
}

Result<std::string> JwtKeyRingCache::Sign(const JwtClaims& claims) {
  return Current()->Sign(claims);
}

Result<JwtClaims> JwtKeyRingCache::Verify(std::string_view token) {
  return Current()->Verify(token, clock_.UnixMillis());
}

Status JwtKeyRingCache::last_reload_status() const {
  std::lock_guard<std::mutex> lock(ring_mu_);
  return reload_status_;
}

}  // namespace auri
