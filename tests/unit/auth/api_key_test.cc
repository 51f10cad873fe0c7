#include "auth/api_key.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <string>
#include <vector>

namespace auri {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Argon2Limits kFast = Argon2Limits::Minimum();

NewApiKey GenerateOk(ApiKeyEnvironment environment = ApiKeyEnvironment::kLive) {
  Result<NewApiKey> key = GenerateApiKey(environment, kFast);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return key.ok() ? *key : NewApiKey{};
}

TEST(ApiKeyTest, LiveKeyIsSkLivePlus43Base64UrlChars) {
  NewApiKey key = GenerateOk(ApiKeyEnvironment::kLive);
  EXPECT_EQ(key.key.size(), 51u);
  EXPECT_TRUE(std::regex_match(key.key, std::regex("sk_live_[A-Za-z0-9_-]{43}")));
}

TEST(ApiKeyTest, TestKeyIsSkTestPlus43Base64UrlChars) {
  NewApiKey key = GenerateOk(ApiKeyEnvironment::kTest);
  EXPECT_EQ(key.key.size(), 51u);
  EXPECT_TRUE(std::regex_match(key.key, std::regex("sk_test_[A-Za-z0-9_-]{43}")));
  Result<ParsedApiKey> parsed = ParseApiKey(key.key);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->environment, ApiKeyEnvironment::kTest);
}

TEST(ApiKeyTest, PrefixIsTheFirst16Characters) {
  NewApiKey key = GenerateOk();
  EXPECT_EQ(key.prefix, key.key.substr(0, 16));
  Result<ParsedApiKey> parsed = ParseApiKey(key.key);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->prefix, key.prefix);
  EXPECT_EQ(parsed->environment, ApiKeyEnvironment::kLive);
}

TEST(ApiKeyTest, GeneratedKeysDiffer) { EXPECT_NE(GenerateOk().key, GenerateOk().key); }

TEST(ApiKeyTest, StoredHashVerifiesTheKey) {
  NewApiKey key = GenerateOk();
  EXPECT_TRUE(key.hash.starts_with("$argon2id$"));
  EXPECT_EQ(key.hash.find(key.key), std::string::npos);
  EXPECT_TRUE(VerifyApiKey(key.key, key.hash));
}

TEST(ApiKeyTest, WrongKeyWithTheSamePrefixFails) {
  NewApiKey key = GenerateOk();
  std::string wrong = key.key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyApiKey(wrong, key.hash));
  EXPECT_FALSE(VerifyApiKey(GenerateOk().key, key.hash));
}

TEST(ApiKeyTest, MalformedKeysAreRejectedWithoutEchoingThem) {
  std::string good = GenerateOk().key;
  std::string bad_char = good;
  bad_char[20] = '/';
  const std::vector<std::string> bad = {"",
                                        good.substr(0, 50),
                                        good + "x",
                                        "sk_prod_" + good.substr(8),
                                        "SK_LIVE_" + good.substr(8),
                                        bad_char};
  for (const std::string& key : bad) {
    Result<ParsedApiKey> parsed = ParseApiKey(key);
    ASSERT_FALSE(parsed.ok()) << key;
    EXPECT_EQ(parsed.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(parsed.status().message(), "malformed api key");
  }
}

TEST(ApiKeyPermissionsTest, ParsesKnownNamesAndFormatsInCanonicalOrder) {
  Result<ApiKeyPermissions> set = ApiKeyPermissions::Parse({"delete", "read", "read"});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_THAT(set->Names(), ElementsAre("read", "delete"));
}

TEST(ApiKeyPermissionsTest, UnknownNameIsInvalidArgumentNamingIt) {
  Result<ApiKeyPermissions> set = ApiKeyPermissions::Parse({"read", "superuser"});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(set.status().message(), "unknown api key permission: superuser");
  EXPECT_THAT(set.status().hint(), HasSubstr("read, write, delete, admin"));
}

TEST(ApiKeyPermissionsTest, AllowsOnlyWhatItHolds) {
  ApiKeyPermissions set;
  set.Add(ApiKeyPermission::kWrite);
  EXPECT_TRUE(set.Allows(ApiKeyPermission::kWrite));
  EXPECT_FALSE(set.Allows(ApiKeyPermission::kRead));
  EXPECT_FALSE(set.Allows(ApiKeyPermission::kDelete));
  EXPECT_FALSE(set.Allows(ApiKeyPermission::kAdmin));
  EXPECT_FALSE(ApiKeyPermissions().Allows(ApiKeyPermission::kRead));
}

TEST(ApiKeyPermissionsTest, AdminAllowsEverything) {
  ApiKeyPermissions set;
  set.Add(ApiKeyPermission::kAdmin);
  EXPECT_TRUE(set.Allows(ApiKeyPermission::kRead));
  EXPECT_TRUE(set.Allows(ApiKeyPermission::kWrite));
  EXPECT_TRUE(set.Allows(ApiKeyPermission::kDelete));
  EXPECT_FALSE(set.Has(ApiKeyPermission::kRead));
  EXPECT_THAT(set.Names(), ElementsAre("admin"));
}

constexpr std::string_view kKey = "sk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
constexpr std::string_view kJwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";

TEST(ExtractCredentialTest, XApiKeyHeaderIsAnApiKey) {
  Result<PresentedCredential> c = ExtractCredential(kKey, std::nullopt);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, CredentialKind::kApiKey);
  EXPECT_EQ(c->value, kKey);
}

TEST(ExtractCredentialTest, BearerSkTokenIsAnApiKey) {
  std::string header = "Bearer " + std::string(kKey);
  Result<PresentedCredential> c = ExtractCredential(std::nullopt, header);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, CredentialKind::kApiKey);
  EXPECT_EQ(c->value, kKey);
}

TEST(ExtractCredentialTest, BearerJwtIsNotMistakenForAnApiKey) {
  std::string header = "Bearer " + std::string(kJwt);
  Result<PresentedCredential> c = ExtractCredential(std::nullopt, header);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, CredentialKind::kBearerToken);
  EXPECT_EQ(c->value, kJwt);
}

TEST(ExtractCredentialTest, BearerSchemeIsCaseInsensitiveAndSpacesAreTrimmed) {
  std::string header = "  bEaReR \t" + std::string(kKey) + " ";
  Result<PresentedCredential> c = ExtractCredential(std::nullopt, header);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, CredentialKind::kApiKey);
  EXPECT_EQ(c->value, kKey);
}

TEST(ExtractCredentialTest, NoHeadersMeansNoCredential) {
  Result<PresentedCredential> c = ExtractCredential(std::nullopt, std::nullopt);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, CredentialKind::kNone);
}

TEST(ExtractCredentialTest, OtherAuthorizationSchemesAreRejected) {
  for (std::string header : {"Basic dXNlcjpwYXNz", "Bearerxyz", "Token abc"}) {
    Result<PresentedCredential> c = ExtractCredential(std::nullopt, header);
    ASSERT_FALSE(c.ok()) << header;
    EXPECT_EQ(c.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(c.status().message(), "authorization header must use the Bearer scheme");
  }
}

TEST(ExtractCredentialTest, EmptyCredentialsAreRejected) {
  Result<PresentedCredential> empty_bearer = ExtractCredential(std::nullopt, "Bearer   ");
  ASSERT_FALSE(empty_bearer.ok());
  EXPECT_EQ(empty_bearer.status().message(), "empty bearer token");
  Result<PresentedCredential> empty_key = ExtractCredential(" ", std::nullopt);
  ASSERT_FALSE(empty_key.ok());
  EXPECT_EQ(empty_key.status().message(), "empty X-API-Key header");
}

TEST(ExtractCredentialTest, TwoDifferentCredentialsAreRejected) {
  std::string bearer_jwt = "Bearer " + std::string(kJwt);
  Result<PresentedCredential> c = ExtractCredential(kKey, bearer_jwt);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(c.status().message(), "conflicting credentials in X-API-Key and Authorization headers");
}

TEST(ExtractCredentialTest, TheSameKeyInBothHeadersIsAccepted) {
  std::string bearer_key = "Bearer " + std::string(kKey);
  Result<PresentedCredential> c = ExtractCredential(kKey, bearer_key);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, CredentialKind::kApiKey);
}

TEST(ApiKeyTimingTest, UnknownPrefixCostsAboutAsMuchAsAWrongKey) {
  // A timing side channel would let a caller learn which prefixes exist. Both paths must run one
  // Argon2id verification. To stay robust on a noisy 2-core machine: a memory cost large enough
  // (1 MiB) that the hash dominates loop overhead, interleaved runs so background load hits both
  // sides alike, medians, and a generous factor of 2.
  const Argon2Limits limits{1, size_t{1024} * 1024};
  Result<NewApiKey> key = GenerateApiKey(ApiKeyEnvironment::kLive, limits);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  std::string wrong = GenerateOk().key;
  DummyVerifyApiKey(limits);  // first call builds the dummy hash; not part of the measurement

  constexpr int kRuns = 21;
  std::vector<double> dummy_us, wrong_us;
  auto time_us = [](auto&& fn) {
    auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
        .count();
  };
  for (int i = 0; i < kRuns; ++i) {
    dummy_us.push_back(time_us([&] { DummyVerifyApiKey(limits); }));
    wrong_us.push_back(time_us([&] { EXPECT_FALSE(VerifyApiKey(wrong, key->hash)); }));
  }
  std::sort(dummy_us.begin(), dummy_us.end());
  std::sort(wrong_us.begin(), wrong_us.end());
  double dummy = dummy_us[kRuns / 2];
  double real = wrong_us[kRuns / 2];
  EXPECT_LT(dummy, 2 * real) << "dummy " << dummy << " us, wrong key " << real << " us";
  EXPECT_LT(real, 2 * dummy) << "dummy " << dummy << " us, wrong key " << real << " us";
}

}  // namespace
}  // namespace auri
