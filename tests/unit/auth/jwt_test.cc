#include "auth/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "../secrets/temp_dir.h"  // tests/ is not on the include path
#include "common/random.h"
#include "secrets/master_key.h"
#include "secrets/secret_store.h"
#include "tests/unit/manual_clock.h"

namespace auri {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

constexpr int64_t kNowMs = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
constexpr int64_t kMinuteMs = int64_t{60} * 1000;
const std::string kKeyName(kJwtSigningKeySecret);

class FakeClock : public auri::testing::ManualClock {
 public:
  FakeClock() : ManualClock(kNowMs) {}
};

// A key like the store generates: base64url of 32 random bytes (43 characters).
std::string NewKeyText() {
  std::string bytes(32, '\0');
  RandomBytes(bytes.data(), bytes.size());
  return Base64UrlEncode(bytes);
}

JwtKey Key(std::string kid, std::string secret, std::optional<int64_t> not_after = std::nullopt) {
  return JwtKey{std::move(kid), SecretValue(std::move(secret)), not_after};
}

// A compact JWS over arbitrary header and claims text, for the cases Sign() never produces.
std::string Craft(std::string_view header, std::string_view claims, std::string_view key) {
  std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
  Result<std::string> signature = Hs256Signature(input, key);
  EXPECT_TRUE(signature.ok()) << signature.status().ToString();
  return input + "." + (signature.ok() ? *signature : "");
}

std::string DecodePart(std::string_view part) {
  std::string padded(part);
  for (char& c : padded) c = c == '-' ? '+' : c == '_' ? '/' : c;
  std::string out;
  EXPECT_TRUE(Base64Decode(padded, &out)) << part;
  return out;
}

std::vector<std::string> Split(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() : key_(NewKeyText()), ring_(MakeRing(Key("k-test", key_))) {}

  static JwtKeyRing MakeRing(JwtKey signing, std::vector<JwtKey> others = {}) {
    Result<JwtKeyRing> ring = JwtKeyRing::Create(std::move(signing), std::move(others));
    EXPECT_TRUE(ring.ok()) << ring.status().ToString();
    return std::move(ring).value();
  }

  std::string SignOk(const JwtKeyRing& ring, const JwtClaims& claims) {
    Result<std::string> token = ring.Sign(claims);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : "";
  }
  std::string SignOk(const JwtClaims& claims) { return SignOk(ring_, claims); }

  JwtClaims Claims(int64_t now_ms = kNowMs) {
    return NewAccessTokenClaims("8a4f2c1e-0000-4000-8000-000000000001", "alice", now_ms);
  }

  // Asserts that verifying `token` at `now_ms` fails as invalid_token with `message`.
  void ExpectRejected(const JwtKeyRing& ring, std::string_view token, int64_t now_ms,
                      const std::string& message) {
    Result<JwtClaims> claims = ring.Verify(token, now_ms);
    ASSERT_FALSE(claims.ok()) << "accepted; expected: " << message;
    EXPECT_EQ(claims.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(claims.status().message(), message);
  }
  void ExpectRejected(std::string_view token, int64_t now_ms, const std::string& message) {
    ExpectRejected(ring_, token, now_ms, message);
  }

  std::string key_;
  JwtKeyRing ring_;
};

TEST_F(JwtTest, SignThenVerifyReturnsTheClaims) {
  JwtClaims claims = Claims();
  Result<JwtClaims> verified = ring_.Verify(SignOk(claims), kNowMs);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(*verified, claims);
}

TEST_F(JwtTest, NewAccessTokenClaimsLastOneHourFromNowInSeconds) {
  JwtClaims claims = NewAccessTokenClaims("u", "alice", kNowMs + 999);
  EXPECT_EQ(claims.iat, kNowMs / 1000);
  EXPECT_EQ(claims.exp, kNowMs / 1000 + 3600);
}

TEST_F(JwtTest, HeaderNamesHs256JwtAndTheSigningKid) {
  std::vector<std::string> parts = Split(SignOk(Claims()));
  ASSERT_EQ(parts.size(), 3u);
  nlohmann::json header = nlohmann::json::parse(DecodePart(parts[0]));
  EXPECT_EQ(header, (nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "k-test"}}));
  nlohmann::json claims = nlohmann::json::parse(DecodePart(parts[1]));
  EXPECT_EQ(claims.at("sub"), "8a4f2c1e-0000-4000-8000-000000000001");
  EXPECT_EQ(claims.at("username"), "alice");
  EXPECT_EQ(claims.at("exp").get<int64_t>() - claims.at("iat").get<int64_t>(), 3600);
}

// jwt.io's example token, signed with "your-256-bit-secret": our HMAC and base64url must produce
// its exact signature. (The token itself has no kid and no exp, so Verify refuses it; see below.)
TEST_F(JwtTest, Hs256MatchesTheJwtIoExampleSignature) {
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  size_t last_dot = token.rfind('.');
  Result<std::string> signature = Hs256Signature(token.substr(0, last_dot), "your-256-bit-secret");
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(*signature, token.substr(last_dot + 1));
}

// RFC 7515 appendix A.1: the JWS specification's own HS256 example.
const std::string kRfc7515Token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

std::string Rfc7515Key() {
  // The JWK "k" of appendix A.1, base64url-decoded (64 bytes).
  std::string k =
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
  return DecodePart(k);
}

TEST_F(JwtTest, Hs256MatchesRfc7515AppendixA1) {
  size_t last_dot = kRfc7515Token.rfind('.');
  Result<std::string> signature = Hs256Signature(kRfc7515Token.substr(0, last_dot), Rfc7515Key());
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(*signature, kRfc7515Token.substr(last_dot + 1));
}

// Decision: a token without kid is refused even when the ring holds exactly the key that signed it.
TEST_F(JwtTest, KidlessTokenIsRejectedEvenWhenTheRingHoldsItsKey) {
  JwtKeyRing ring = MakeRing(Key("rfc7515", Rfc7515Key()));
  ExpectRejected(ring, kRfc7515Token, 1300819380 * 1000LL - kMinuteMs,
                 "invalid token: token has no kid");
}

TEST_F(JwtTest, CraftedTokenWithOurHeaderAndKeyVerifies) {
  // Guards Craft() itself, so the rejections below are rejections of what they say.
  std::string token =
      Craft(R"({"alg":"HS256","typ":"JWT","kid":"k-test"})",
            R"({"sub":"u1","username":"bob","iat":1700000000,"exp":1700003600})", key_);
  Result<JwtClaims> claims = ring_.Verify(token, kNowMs);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->username, "bob");
}

TEST_F(JwtTest, AlgNoneIsRejected) {
  std::string header = Base64UrlEncode(R"({"alg":"none","typ":"JWT","kid":"k-test"})");
  std::string claims = Split(SignOk(Claims()))[1];
  ExpectRejected(header + "." + claims + ".", kNowMs, "invalid token: unsupported alg: only HS256");
}

TEST_F(JwtTest, AlgOtherThanHs256IsRejected) {
  const std::string claims = R"({"sub":"u1","username":"bob","iat":1700000000,"exp":1700003600})";
  for (const char* alg : {"HS512", "RS256", "hs256", "HS256 "}) {
    std::string header = std::string(R"({"alg":")") + alg + R"(","kid":"k-test"})";
    ExpectRejected(Craft(header, claims, key_), kNowMs,
                   "invalid token: unsupported alg: only HS256");
  }
  ExpectRejected(Craft(R"({"kid":"k-test"})", claims, key_), kNowMs,
                 "invalid token: unsupported alg: only HS256");
}

TEST_F(JwtTest, CriticalHeaderExtensionsAreRejected) {
  std::string token =
      Craft(R"({"alg":"HS256","kid":"k-test","crit":["exp"]})",
            R"({"sub":"u1","username":"bob","iat":1700000000,"exp":1700003600})", key_);
  ExpectRejected(token, kNowMs, "invalid token: unsupported crit header");
}

TEST_F(JwtTest, UnknownKidIsRejected) {
  JwtKeyRing other = MakeRing(Key("k-other", NewKeyText()));
  ExpectRejected(SignOk(other, Claims()), kNowMs, "invalid token: unknown signing key");
}

TEST_F(JwtTest, KnownKidWithAnotherKeysSignatureIsRejected) {
  // Same kid, different key: only the signature can tell them apart.
  JwtKeyRing impostor = MakeRing(Key("k-test", NewKeyText()));
  ExpectRejected(SignOk(impostor, Claims()), kNowMs, "invalid token: bad signature");
}

TEST_F(JwtTest, TamperedClaimsAreRejected) {
  std::vector<std::string> parts = Split(SignOk(Claims()));
  std::string forged = Base64UrlEncode(
      R"({"sub":"8a4f2c1e-0000-4000-8000-000000000001","username":"admin","iat":1700000000,"exp":1700003600})");
  ExpectRejected(parts[0] + "." + forged + "." + parts[2], kNowMs, "invalid token: bad signature");
}

TEST_F(JwtTest, FlippedSignatureCharacterIsRejected) {
  std::string token = SignOk(Claims());
  size_t i = token.rfind('.') + 5;
  token[i] = token[i] == 'A' ? 'B' : 'A';
  ExpectRejected(token, kNowMs, "invalid token: bad signature");
}

TEST_F(JwtTest, NonCanonicalSignatureEncodingIsRejected) {
  // 32 bytes → 43 characters whose last carries 2 unused bits; setting them gives another spelling
  // of the same bytes, which a strict decoder refuses.
  std::string token = SignOk(Claims());
  char& last = token.back();
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  last = kAlphabet[kAlphabet.find(last) | 1];
  ExpectRejected(token, kNowMs, "invalid token: malformed signature");
}

TEST_F(JwtTest, ExpiredTokenIsRejectedAfterTheLeeway) {
  JwtClaims claims = Claims();
  std::string token = SignOk(claims);
  int64_t exp_ms = claims.exp * 1000;
  EXPECT_TRUE(ring_.Verify(token, exp_ms + 59'999).ok());  // within 60 s of leeway
  ExpectRejected(token, exp_ms + 60'000, "invalid token: token expired");
}

TEST_F(JwtTest, TokenIssuedFarInTheFutureIsRejected) {
  std::string within_leeway = SignOk(Claims(kNowMs + 60'000));
  EXPECT_TRUE(ring_.Verify(within_leeway, kNowMs).ok());
  std::string future = SignOk(Claims(kNowMs + 61'000));
  ExpectRejected(future, kNowMs, "invalid token: token issued in the future");
}

TEST_F(JwtTest, NotBeforeInTheFutureIsRejected) {
  std::string token = Craft(
      R"({"alg":"HS256","kid":"k-test"})",
      R"({"sub":"u1","username":"bob","iat":1700000000,"exp":1700003600,"nbf":1700000500})", key_);
  ExpectRejected(token, kNowMs, "invalid token: token not yet valid");
}

TEST_F(JwtTest, MissingOrMistypedClaimsAreRejected) {
  const std::string header = R"({"alg":"HS256","kid":"k-test"})";
  ExpectRejected(Craft(header, R"({"username":"b","iat":1700000000,"exp":1700003600})", key_),
                 kNowMs, "invalid token: missing or malformed claim sub");
  ExpectRejected(Craft(header, R"({"sub":"u","iat":1700000000,"exp":1700003600})", key_), kNowMs,
                 "invalid token: missing or malformed claim username");
  ExpectRejected(Craft(header, R"({"sub":"u","username":"b","iat":1700000000})", key_), kNowMs,
                 "invalid token: missing or malformed claim exp");
  ExpectRejected(
      Craft(header, R"({"sub":"u","username":"b","iat":1700000000,"exp":"1700003600"})", key_),
      kNowMs, "invalid token: missing or malformed claim exp");
  ExpectRejected(
      Craft(header, R"({"sub":"u","username":"b","iat":1700000000.5,"exp":1700003600})", key_),
      kNowMs, "invalid token: missing or malformed claim iat");
  ExpectRejected(
      Craft(header, R"({"sub":"u","username":"b","iat":1,"exp":99999999999999999999})", key_),
      kNowMs, "invalid token: missing or malformed claim exp");
}

TEST_F(JwtTest, MalformedBase64UrlIsRejected) {
  std::vector<std::string> parts = Split(SignOk(Claims()));
  ExpectRejected(parts[0] + "=." + parts[1] + "." + parts[2], kNowMs,
                 "invalid token: malformed token header");  // padding
  std::string plus = parts[0];
  plus[3] = '+';  // standard alphabet, not URL
  ExpectRejected(plus + "." + parts[1] + "." + parts[2], kNowMs,
                 "invalid token: malformed token header");
  ExpectRejected(parts[0] + "." + parts[1] + "." + parts[2] + "=", kNowMs,
                 "invalid token: malformed signature");
}

TEST_F(JwtTest, MalformedJsonIsRejected) {
  ExpectRejected(Craft(R"({"alg":"HS256",)", "{}", key_), kNowMs,
                 "invalid token: malformed token header");
  ExpectRejected(Craft(R"(["alg","HS256"])", "{}", key_), kNowMs,
                 "invalid token: malformed token header");
  ExpectRejected(Craft(R"({"alg":"HS256","kid":"k-test"})", R"({"sub":)", key_), kNowMs,
                 "invalid token: malformed token claims");
}

TEST_F(JwtTest, WrongNumberOfPartsIsRejected) {
  std::string token = SignOk(Claims());
  const std::string message = "invalid token: malformed token: expected three dot-separated parts";
  ExpectRejected("", kNowMs, message);
  ExpectRejected("abc", kNowMs, message);
  ExpectRejected(token.substr(0, token.rfind('.')), kNowMs, message);
  ExpectRejected(token + ".x", kNowMs, message);
}

TEST_F(JwtTest, OversizedTokenIsRejectedEvenWithAValidSignature) {
  JwtClaims claims = Claims();
  claims.username = std::string(7000, 'a');  // base64url makes the token > 8 KiB
  std::string token = SignOk(claims);
  ASSERT_GT(token.size(), 8192u);
  ExpectRejected(token, kNowMs, "invalid token: token is longer than 8192 bytes");
}

TEST_F(JwtTest, RejectionMessagesNeverContainTheTokenOrKey) {
  std::string token = SignOk(JwtKeyRing(MakeRing(Key("k-secretive-kid", NewKeyText()))), Claims());
  Result<JwtClaims> claims = ring_.Verify(token, kNowMs);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().ToString().find(token), std::string::npos);
  EXPECT_EQ(claims.status().ToString().find("k-secretive-kid"), std::string::npos);
  EXPECT_EQ(claims.status().ToString().find(key_), std::string::npos);
}

TEST_F(JwtTest, RingRefusesShortKeysAndDuplicateKids) {
  Result<JwtKeyRing> short_key = JwtKeyRing::Create(Key("k1", "your-256-bit-secret"));
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.status().message(), "jwt key k1 is shorter than 32 bytes");
  Result<JwtKeyRing> duplicate =
      JwtKeyRing::Create(Key("k1", NewKeyText()), {Key("k1", NewKeyText())});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.status().message(), "jwt key id k1 appears twice in the key ring");
}

TEST_F(JwtTest, VerifyOnlyKeyStopsVerifyingAtItsNotAfter) {
  std::string old_key = NewKeyText();
  std::string old_token = SignOk(MakeRing(Key("k-old", old_key)), Claims());
  JwtKeyRing ring = MakeRing(Key("k-new", NewKeyText()), {Key("k-old", old_key, kNowMs + 1000)});
  EXPECT_TRUE(ring.Verify(old_token, kNowMs + 999).ok());
  ExpectRejected(ring, old_token, kNowMs + 1000,
                 "invalid token: signing key is no longer accepted");
}

// --- Key ring from the secret store ------------------------------------------------------------

PutOptions WithKeyId(std::string key_id, bool make_current = true) {
  PutOptions options;
  options.key_id = std::move(key_id);
  options.make_current = make_current;
  return options;
}

class JwtStoreTest : public JwtTest {
 protected:
  JwtStoreTest() {
    Result<SecretStore> store =
        SecretStore::Open(tmp_.path() + "/secrets", MasterKey::Generate(), &clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_.emplace(std::move(store).value());
  }

  int PutKey(const std::string& kid, bool make_current = true, std::string value = NewKeyText()) {
    Result<int> version =
        store_->Put(kKeyName, SecretValue(std::move(value)), WithKeyId(kid, make_current));
    EXPECT_TRUE(version.ok()) << version.status().ToString();
    return version.ok() ? *version : -1;
  }

  JwtKeyRing LoadOk(int64_t now_ms) {
    Result<JwtKeyRing> ring = LoadJwtKeyRing(*store_, now_ms);
    EXPECT_TRUE(ring.ok()) << ring.status().ToString();
    return std::move(ring).value();
  }

  TempDir tmp_;
  FakeClock clock_;
  std::optional<SecretStore> store_;
};

TEST_F(JwtStoreTest, CurrentVersionSignsWithItsKeyId) {
  PutKey("k-1");
  JwtKeyRing ring = LoadOk(kNowMs);
  EXPECT_EQ(ring.signing_kid(), "k-1");
  EXPECT_THAT(ring.kids(), ElementsAre("k-1"));
  EXPECT_TRUE(ring.Verify(SignOk(ring, Claims()), kNowMs).ok());
}

TEST_F(JwtStoreTest, AfterRotationNewTokensUseTheNewKidAndOldTokensStillVerify) {
  PutKey("k-1");
  std::string old_token = SignOk(LoadOk(kNowMs), Claims());
  PutKey("k-2");  // k-1 becomes previous, with no grace end set
  JwtKeyRing ring = LoadOk(kNowMs);
  EXPECT_EQ(ring.signing_kid(), "k-2");
  EXPECT_THAT(ring.kids(), ElementsAre("k-2", "k-1"));
  std::vector<std::string> parts = Split(SignOk(ring, Claims()));
  EXPECT_THAT(DecodePart(parts[0]), HasSubstr(R"("kid":"k-2")"));
  EXPECT_TRUE(ring.Verify(old_token, kNowMs).ok());
}

TEST_F(JwtStoreTest, PreviousKeyVerifiesUntilItsGraceEndsThenIsRejected) {
  int v1 = PutKey("k-1");
  std::string old_token = SignOk(LoadOk(kNowMs), Claims());
  PutKey("k-2");
  const int64_t grace_end = kNowMs + 30 * kMinuteMs;  // before the token's own exp (1 h)
  ASSERT_TRUE(store_->SetNotAfter(kKeyName, v1, grace_end).ok());

  JwtKeyRing ring = LoadOk(kNowMs + kMinuteMs);
  EXPECT_TRUE(ring.Verify(old_token, grace_end - 1).ok());
  // The same ring object, later: the grace is enforced at verification time, not only at load.
  ExpectRejected(ring, old_token, grace_end, "invalid token: signing key is no longer accepted");
  // And a ring loaded after the grace no longer holds the key at all.
  JwtKeyRing later = LoadOk(grace_end);
  EXPECT_THAT(later.kids(), ElementsAre("k-2"));
  ExpectRejected(later, old_token, grace_end, "invalid token: unknown signing key");
}

TEST_F(JwtStoreTest, RevokedPreviousKeyIsRejectedImmediately) {
  PutKey("k-1");
  std::string old_token = SignOk(LoadOk(kNowMs), Claims());
  PutKey("k-2");
  ASSERT_TRUE(store_->ClearLabel(kKeyName, Label::kPrevious).ok());
  ExpectRejected(LoadOk(kNowMs), old_token, kNowMs, "invalid token: unknown signing key");
}

TEST_F(JwtStoreTest, PendingKeyDoesNotVerify) {
  PutKey("k-1");
  std::string pending_key = NewKeyText();
  int v2 = PutKey("k-2", /*make_current=*/false, pending_key);
  ASSERT_TRUE(store_->SetLabel(kKeyName, Label::kPending, v2).ok());
  std::string staged_token = SignOk(MakeRing(Key("k-2", pending_key)), Claims());
  JwtKeyRing ring = LoadOk(kNowMs);
  EXPECT_THAT(ring.kids(), ElementsAre("k-1"));
  ExpectRejected(ring, staged_token, kNowMs, "invalid token: unknown signing key");
}

TEST_F(JwtStoreTest, UnlabelledOlderVersionsDoNotVerify) {
  PutKey("k-1");
  std::string oldest_token = SignOk(LoadOk(kNowMs), Claims());
  PutKey("k-2");
  PutKey("k-3");  // k-1 loses the previous label
  JwtKeyRing ring = LoadOk(kNowMs);
  EXPECT_THAT(ring.kids(), ElementsAre("k-3", "k-2"));
  ExpectRejected(ring, oldest_token, kNowMs, "invalid token: unknown signing key");
}

TEST_F(JwtStoreTest, MissingSecretIsFailedPreconditionWithHint) {
  Result<JwtKeyRing> ring = LoadJwtKeyRing(*store_, kNowMs);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ring.status().message(), "secret jwt-signing-key has no current version");
  EXPECT_THAT(ring.status().hint(), HasSubstr("auri secrets rotate jwt-signing-key"));
}

TEST_F(JwtStoreTest, CurrentVersionWithoutKeyIdIsFailedPrecondition) {
  ASSERT_TRUE(store_->Put(kKeyName, SecretValue(NewKeyText())).ok());
  Result<JwtKeyRing> ring = LoadJwtKeyRing(*store_, kNowMs);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ring.status().message(), "jwt-signing-key version 1 has no key id");
}

TEST_F(JwtStoreTest, ShortCurrentKeyIsFailedPreconditionWithoutRevealingIt) {
  PutKey("k-1", true, "short-secret");
  Result<JwtKeyRing> ring = LoadJwtKeyRing(*store_, kNowMs);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.status().message(), "jwt-signing-key version 1 is shorter than 32 bytes");
  EXPECT_EQ(ring.status().ToString().find("short-secret"), std::string::npos);
}

TEST_F(JwtStoreTest, InitialSecretsMakeAUsableRing) {
  ASSERT_TRUE(store_->EnsureInitialSecrets().ok());
  JwtKeyRing ring = LoadOk(kNowMs);
  EXPECT_THAT(ring.signing_kid(), ::testing::StartsWith("k-"));
  EXPECT_TRUE(ring.Verify(SignOk(ring, Claims()), kNowMs).ok());
}

// --- The cache -------------------------------------------------------------------------------

class JwtCacheTest : public JwtStoreTest {
 protected:
  std::unique_ptr<JwtKeyRingCache> CreateOk(int64_t interval_ms) {
    Result<std::unique_ptr<JwtKeyRingCache>> cache =
        JwtKeyRingCache::Create(*store_, clock_, interval_ms);
    EXPECT_TRUE(cache.ok()) << cache.status().ToString();
    return cache.ok() ? std::move(cache).value() : nullptr;
  }
};

TEST_F(JwtCacheTest, ReloadsAfterGenerationChangesOnceTheIntervalPasses) {
  PutKey("k-1");
  std::unique_ptr<JwtKeyRingCache> cache = CreateOk(1000);
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->Current()->signing_kid(), "k-1");

  PutKey("k-2");
  clock_.Advance(999);
  EXPECT_EQ(cache->Current()->signing_kid(), "k-1");  // not checked yet
  clock_.Advance(1);
  EXPECT_EQ(cache->Current()->signing_kid(), "k-2");
  EXPECT_TRUE(cache->last_reload_status().ok());
}

TEST_F(JwtCacheTest, KeepsTheSameRingWhileTheGenerationIsUnchanged) {
  PutKey("k-1");
  std::unique_ptr<JwtKeyRingCache> cache = CreateOk(1000);
  ASSERT_NE(cache, nullptr);
  std::shared_ptr<const JwtKeyRing> first = cache->Current();
  clock_.Advance(5000);
  EXPECT_EQ(cache->Current().get(), first.get());
}

TEST_F(JwtCacheTest, RevocationRejectsOldTokensAtTheNextCheck) {
  PutKey("k-1");
  std::unique_ptr<JwtKeyRingCache> cache = CreateOk(1000);
  ASSERT_NE(cache, nullptr);
  Result<std::string> old_token =
      cache->Sign(NewAccessTokenClaims("u", "alice", clock_.UnixMillis()));
  ASSERT_TRUE(old_token.ok());

  PutKey("k-2");
  ASSERT_TRUE(store_->ClearLabel(kKeyName, Label::kPrevious).ok());  // --revoke-previous
  EXPECT_TRUE(cache->Verify(*old_token).ok());                       // within the check interval
  clock_.Advance(1000);
  Result<JwtClaims> claims = cache->Verify(*old_token);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().message(), "invalid token: unknown signing key");
}

TEST_F(JwtCacheTest, FailedReloadKeepsTheOldRingAndReportsWhy) {
  PutKey("k-1");
  std::unique_ptr<JwtKeyRingCache> cache = CreateOk(0);
  ASSERT_NE(cache, nullptr);
  PutKey("k-bad", true, "too-short");
  EXPECT_EQ(cache->Current()->signing_kid(), "k-1");
  EXPECT_EQ(cache->last_reload_status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(cache->last_reload_status().message(), HasSubstr("shorter than 32 bytes"));

  PutKey("k-3");  // a good key fixes it at the next check
  EXPECT_EQ(cache->Current()->signing_kid(), "k-3");
  EXPECT_TRUE(cache->last_reload_status().ok());
}

TEST_F(JwtCacheTest, CreateFailsWithoutAKey) {
  Result<std::unique_ptr<JwtKeyRingCache>> cache = JwtKeyRingCache::Create(*store_, clock_, 1000);
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(JwtCacheTest, ConcurrentVerifiersSeeNoFailuresDuringRoutineRotation) {
  PutKey("k-1");
  std::unique_ptr<JwtKeyRingCache> cache = CreateOk(0);  // check on every call: maximum churn
  ASSERT_NE(cache, nullptr);
  Result<std::string> token = cache->Sign(NewAccessTokenClaims("u", "alice", clock_.UnixMillis()));
  ASSERT_TRUE(token.ok());

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, verified{0};
  std::vector<std::thread> verifiers;
  verifiers.reserve(3);
  for (int t = 0; t < 3; ++t) {
    verifiers.emplace_back([&] {
      while (!stop.load()) {
        if (cache->Verify(*token).ok()) {
          ++verified;
        } else {
          ++failures;
        }
      }
    });
  }
  PutKey("k-2");  // k-1 stays as previous, so its token must keep verifying throughout
  while (cache->Current()->signing_kid() != "k-2") std::this_thread::yield();
  stop = true;
  for (std::thread& t : verifiers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(verified.load(), 0);
}

}  // namespace
}  // namespace auri
