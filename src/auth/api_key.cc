#include "auth/api_key.h"

#include <array>
#include <utility>

#include "common/random.h"

namespace auri {
namespace {

constexpr std::string_view kLivePrefix = "sk_live_";
constexpr std::string_view kTestPrefix = "sk_test_";
constexpr size_t kApiKeyRandomBytes = 32;  // base64url → 43 characters

constexpr std::array<ApiKeyPermission, 4> kAllPermissions = {
    ApiKeyPermission::kRead, ApiKeyPermission::kWrite, ApiKeyPermission::kDelete,
    ApiKeyPermission::kAdmin};

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = text[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

}  // namespace

Result<NewApiKey> GenerateApiKey(ApiKeyEnvironment environment, const Argon2Limits& limits) {
  std::string random(kApiKeyRandomBytes, '\0');
  RandomBytes(random.data(), random.size());
  NewApiKey out;
  out.key = std::string(environment == ApiKeyEnvironment::kLive ? kLivePrefix : kTestPrefix) +
            Base64UrlEncode(random);
  out.prefix = out.key.substr(0, kApiKeyPrefixChars);
  ASSIGN_OR_RETURN(out.hash, HashPassword(out.key, limits));
  return out;
}

Result<ParsedApiKey> ParseApiKey(std::string_view key) {
  ParsedApiKey parsed;
  if (key.size() != kApiKeyChars) return Unauthenticated("malformed api key");
  if (key.substr(0, kLivePrefix.size()) == kLivePrefix) {
    parsed.environment = ApiKeyEnvironment::kLive;
  } else if (key.substr(0, kTestPrefix.size()) == kTestPrefix) {
    parsed.environment = ApiKeyEnvironment::kTest;
  } else {
    return Unauthenticated("malformed api key");
  }
  for (char c : key.substr(kLivePrefix.size())) {
    if (!IsBase64UrlChar(c)) return Unauthenticated("malformed api key");
  }
  parsed.prefix = std::string(key.substr(0, kApiKeyPrefixChars));
  return parsed;
}

bool VerifyApiKey(std::string_view key, const std::string& stored_hash) {
  // A malformed key cannot match a hash of a well-formed one; still run the hash so a caller that
  // forgot ParseApiKey does not get a faster "no".
  return VerifyPassword(key, stored_hash) && ParseApiKey(key).ok();
}

void DummyVerifyApiKey(const Argon2Limits& limits) { DummyVerify(limits); }

std::string_view ApiKeyPermissionName(ApiKeyPermission permission) {
  switch (permission) {
    case ApiKeyPermission::kRead:
      return "read";
    case ApiKeyPermission::kWrite:
      return "write";
    case ApiKeyPermission::kDelete:
      return "delete";
    case ApiKeyPermission::kAdmin:
      return "admin";
  }
  return "unknown";
}

Result<ApiKeyPermissions> ApiKeyPermissions::Parse(const std::vector<std::string>& names) {
  ApiKeyPermissions set;
  for (const std::string& name : names) {
    bool known = false;
    for (ApiKeyPermission p : kAllPermissions) {
      if (name == ApiKeyPermissionName(p)) {
        set.Add(p);
        known = true;
      }
    }
    if (!known) {
      // Cut, because the name comes from a request body and messages go to logs.
      constexpr size_t kMaxShown = 32;
      std::string shown = name.size() > kMaxShown ? name.substr(0, kMaxShown) + "…" : name;
      return InvalidArgument("unknown api key permission: " + shown,
                             "valid permissions: read, write, delete, admin");
    }
  }
  return set;
}

ApiKeyPermissions& ApiKeyPermissions::Add(ApiKeyPermission permission) {
  bits_ |= static_cast<uint8_t>(permission);
  return *this;
}

bool ApiKeyPermissions::Has(ApiKeyPermission permission) const {
  return (bits_ & static_cast<uint8_t>(permission)) != 0;
}

bool ApiKeyPermissions::Allows(ApiKeyPermission permission) const {
  return Has(permission) || Has(ApiKeyPermission::kAdmin);
}

std::vector<std::string> ApiKeyPermissions::Names() const {
  std::vector<std::string> names;
  for (ApiKeyPermission p : kAllPermissions) {
    if (Has(p)) names.emplace_back(ApiKeyPermissionName(p));
  }
  return names;
}

Result<PresentedCredential> ExtractCredential(std::optional<std::string_view> x_api_key,
                                              std::optional<std::string_view> authorization) {
  std::optional<PresentedCredential> from_key_header;
  if (x_api_key) {
    std::string_view value = TrimSpaces(*x_api_key);
    if (value.empty()) return Unauthenticated("empty X-API-Key header");
    from_key_header = PresentedCredential{CredentialKind::kApiKey, value};
  }

  std::optional<PresentedCredential> from_authorization;
  if (authorization) {
    std::string_view value = TrimSpaces(*authorization);
    constexpr std::string_view kBearer = "bearer";
    // "Bearer" must be followed by at least one space or tab, so "Bearerxyz" is not a token.
    if (!StartsWithIgnoringCase(value, kBearer) ||
        (value.size() > kBearer.size() && value[kBearer.size()] != ' ' &&
         value[kBearer.size()] != '\t')) {
      return Unauthenticated("authorization header must use the Bearer scheme");
    }
    std::string_view token = TrimSpaces(value.substr(kBearer.size()));
    if (token.empty()) return Unauthenticated("empty bearer token");
    // API keys start "sk_"; JWTs start with base64url of '{"' ("eyJ"), and the ingest token "ing_",
    // so the two can never be confused.
    CredentialKind kind =
        token.substr(0, 3) == "sk_" ? CredentialKind::kApiKey : CredentialKind::kBearerToken;
    from_authorization = PresentedCredential{kind, token};
  }

  if (from_key_header && from_authorization) {
    if (from_authorization->kind != CredentialKind::kApiKey ||
        from_authorization->value != from_key_header->value) {
      return Unauthenticated("conflicting credentials in X-API-Key and Authorization headers",
                             "send one credential per request");
    }
    return *from_key_header;
  }
  if (from_key_header) return *from_key_header;
  if (from_authorization) return *from_authorization;
  return PresentedCredential{};
}

}  // namespace auri
