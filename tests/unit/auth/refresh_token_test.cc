#include "auth/refresh_token.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace auri {
namespace {

TEST(RefreshTokenTest, GeneratedTokenIsUrtPrefixPlus43Base64UrlChars) {
  std::string token = GenerateRefreshToken();
  EXPECT_EQ(token.size(), 47u);
  EXPECT_TRUE(std::regex_match(token, std::regex("urt_[A-Za-z0-9_-]{43}"))) << token;
  EXPECT_TRUE(IsWellFormedRefreshToken(token));
}

TEST(RefreshTokenTest, GeneratedTokensDiffer) {
  EXPECT_NE(GenerateRefreshToken(), GenerateRefreshToken());
}

TEST(RefreshTokenTest, MalformedTokensAreRejected) {
  std::string good = GenerateRefreshToken();
  EXPECT_FALSE(IsWellFormedRefreshToken(""));
  EXPECT_FALSE(IsWellFormedRefreshToken(good.substr(0, 46)));  // one short
  EXPECT_FALSE(IsWellFormedRefreshToken(good + "A"));          // one long
  EXPECT_FALSE(IsWellFormedRefreshToken("urx_" + good.substr(4)));
  std::string bad_char = good;
  bad_char[10] = '+';  // standard base64, not base64url
  EXPECT_FALSE(IsWellFormedRefreshToken(bad_char));
}

TEST(RefreshTokenTest, HashIsSha256AsLowercaseHex) {
  // FIPS 180-2 test vector: SHA-256("abc").
  EXPECT_EQ(HashRefreshToken("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RefreshTokenTest, HashIsStableAndDistinguishesTokens) {
  std::string a = GenerateRefreshToken();
  std::string b = GenerateRefreshToken();
  EXPECT_EQ(HashRefreshToken(a), HashRefreshToken(a));
  EXPECT_NE(HashRefreshToken(a), HashRefreshToken(b));
  EXPECT_EQ(HashRefreshToken(a).size(), 64u);
}

}  // namespace
}  // namespace auri
