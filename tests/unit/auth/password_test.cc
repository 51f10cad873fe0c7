#include "auth/password.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "auth/common_passwords.h"

namespace auri {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Minimum limits keep each hash well under a millisecond; the code path is the same.
const Argon2Limits kFast = Argon2Limits::Minimum();

constexpr std::string_view kGoodPassword = "Correct-Horse-Battery-9";

std::string HashOk(std::string_view password, const Argon2Limits& limits = kFast) {
  Result<std::string> hash = HashPassword(password, limits);
  EXPECT_TRUE(hash.ok()) << hash.status().ToString();
  return hash.ok() ? *hash : std::string();
}

TEST(PasswordHashTest, HashThenVerifySucceeds) {
  std::string hash = HashOk(kGoodPassword);
  EXPECT_TRUE(hash.starts_with("$argon2id$")) << hash;
  EXPECT_TRUE(VerifyPassword(kGoodPassword, hash));
}

TEST(PasswordHashTest, WrongPasswordFails) {
  std::string hash = HashOk(kGoodPassword);
  EXPECT_FALSE(VerifyPassword("Correct-Horse-Battery-8", hash));
  EXPECT_FALSE(VerifyPassword("", hash));
}

TEST(PasswordHashTest, MalformedStoredHashFailsInsteadOfErroring) {
  EXPECT_FALSE(VerifyPassword(kGoodPassword, ""));
  EXPECT_FALSE(VerifyPassword(kGoodPassword, "not a hash"));
  EXPECT_FALSE(VerifyPassword(kGoodPassword, "$argon2id$" + std::string(500, 'x')));
}

TEST(PasswordHashTest, SamePasswordHashesDifferentlyEachTime) {
  EXPECT_NE(HashOk(kGoodPassword), HashOk(kGoodPassword));  // fresh salt per hash
}

TEST(PasswordHashTest, InteractiveLimitsAreTheDefaultProductionCost) {
  std::string hash = HashOk(kGoodPassword, Argon2Limits::Interactive());
  EXPECT_THAT(hash, ::testing::HasSubstr("m=65536,t=2,p=1"));  // 64 MiB, 2 passes
  EXPECT_TRUE(VerifyPassword(kGoodPassword, hash));
}

TEST(PasswordHashTest, LimitsOutOfRangeAreInvalidArgument) {
  Result<std::string> hash = HashPassword(kGoodPassword, Argon2Limits{0, 1024});
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(hash.status().message(), ::testing::HasSubstr("argon2id limits out of range"));
}

TEST(PasswordHashTest, NeedsRehashOnlyWhenLimitsDiffer) {
  std::string hash = HashOk(kGoodPassword, kFast);
  EXPECT_FALSE(NeedsRehash(hash, kFast));
  EXPECT_TRUE(NeedsRehash(hash, Argon2Limits::Interactive()));
  EXPECT_TRUE(NeedsRehash("garbage", kFast));
}

TEST(PasswordPolicyTest, AcceptsAPasswordMeetingEveryRule) {
  EXPECT_THAT(CheckPasswordPolicy(kGoodPassword), IsEmpty());
}

TEST(PasswordPolicyTest, TooShortSaysMinimumLength) {
  EXPECT_THAT(CheckPasswordPolicy("Aa1!aaaaaaa"), ElementsAre("must be at least 12 characters"));
  EXPECT_THAT(CheckPasswordPolicy("Aa1!aaaaaaaa"), IsEmpty());  // exactly 12
}

TEST(PasswordPolicyTest, TooLongSaysMaximumLength) {
  std::string at_max = "Aa1!" + std::string(124, 'x');
  EXPECT_THAT(CheckPasswordPolicy(at_max), IsEmpty());
  EXPECT_THAT(CheckPasswordPolicy(at_max + "x"), ElementsAre("must be at most 128 characters"));
}

TEST(PasswordPolicyTest, MissingUppercaseSaysSo) {
  EXPECT_THAT(CheckPasswordPolicy("correct-horse-9"),
              ElementsAre("must contain an uppercase letter (A-Z)"));
}

TEST(PasswordPolicyTest, MissingLowercaseSaysSo) {
  EXPECT_THAT(CheckPasswordPolicy("CORRECT-HORSE-9"),
              ElementsAre("must contain a lowercase letter (a-z)"));
}

TEST(PasswordPolicyTest, MissingDigitSaysSo) {
  EXPECT_THAT(CheckPasswordPolicy("Correct-Horse-Battery"),
              ElementsAre("must contain a digit (0-9)"));
}

TEST(PasswordPolicyTest, MissingSymbolSaysSo) {
  EXPECT_THAT(CheckPasswordPolicy("CorrectHorseBattery9"),
              ElementsAre("must contain a symbol (a character other than A-Z, a-z, 0-9)"));
}

TEST(PasswordPolicyTest, SpaceAndNonAsciiCountAsSymbols) {
  EXPECT_THAT(CheckPasswordPolicy("Correct Horse 9"), IsEmpty());
  EXPECT_THAT(CheckPasswordPolicy("CorrectHorse9\xC3\xA9"), IsEmpty());  // é
}

TEST(PasswordPolicyTest, ControlCharactersAreRefused) {
  EXPECT_THAT(CheckPasswordPolicy("Correct-Horse-9\n"),
              ElementsAre("must not contain control characters"));
}

TEST(PasswordPolicyTest, LengthCountsCharactersNotBytes) {
  // 11 characters but 19 bytes: still too short.
  std::string two_byte_chars = "Aa1";
  for (int i = 0; i < 8; ++i) two_byte_chars += "\xC3\xA9";  // é
  EXPECT_THAT(CheckPasswordPolicy(two_byte_chars), ElementsAre("must be at least 12 characters"));
  // 128 characters of up to 3 bytes each: allowed although it is far over 128 bytes.
  std::string long_multibyte = "Aa1";
  for (int i = 0; i < 125; ++i) long_multibyte += "\xE2\x82\xAC";  // €
  EXPECT_THAT(CheckPasswordPolicy(long_multibyte), IsEmpty());
}

TEST(PasswordPolicyTest, InvalidUtf8IsRefusedWithItsOwnMessage) {
  EXPECT_THAT(CheckPasswordPolicy("Correct-Horse-9\xFF"), ElementsAre("must be valid UTF-8 text"));
  EXPECT_THAT(CheckPasswordPolicy("Correct-Horse-9\xC0\xAF"),  // overlong '/'
              ElementsAre("must be valid UTF-8 text"));
}

TEST(PasswordPolicyTest, CommonPasswordIsRejectedIgnoringCase) {
  // Meets every other rule, which is exactly why the list exists.
  EXPECT_THAT(CheckPasswordPolicy("Password123!"), ElementsAre("is a commonly used password"));
  EXPECT_THAT(CheckPasswordPolicy("PASSWORD123!a"), IsEmpty());  // not on the list
  EXPECT_THAT(CheckPasswordPolicy("1qaz@WSX3edc"), ElementsAre("is a commonly used password"));
  EXPECT_TRUE(IsCommonPassword("QwErTy"));
}

TEST(PasswordPolicyTest, EveryBrokenRuleIsReportedInOrder) {
  EXPECT_THAT(CheckPasswordPolicy("password"),
              ElementsAre("must be at least 12 characters",
                          "must contain an uppercase letter (A-Z)", "must contain a digit (0-9)",
                          "must contain a symbol (a character other than A-Z, a-z, 0-9)",
                          "is a commonly used password"));
}

TEST(PasswordPolicyTest, MessagesNeverContainThePassword) {
  const std::string secret = "zq";
  for (const std::string& message : CheckPasswordPolicy(secret)) {
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
  }
}

TEST(CommonPasswordListTest, HasAtLeast200LowercaseUniqueShortEntries) {
  std::set<std::string_view> seen;
  for (std::string_view entry : kCommonPasswords) {
    EXPECT_TRUE(seen.insert(entry).second) << "duplicate: " << entry;
    EXPECT_LE(entry.size(), 64u) << entry;  // IsCommonPassword skips longer inputs
    for (char c : entry) EXPECT_FALSE(c >= 'A' && c <= 'Z') << "not lowercase: " << entry;
  }
  EXPECT_GE(seen.size(), 200u);
}

}  // namespace
}  // namespace auri
