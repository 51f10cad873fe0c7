// SecretMatcher: the ingest token check (constant-time compare, reload on generation change at most
// once per interval).
#include "secrets/secret_matcher.h"

#include <gtest/gtest.h>

#include "temp_dir.h"  // same folder; tests/ is not on the include path

namespace auri {
namespace {

using std::chrono::seconds;

class SteppedClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const override { return now; }
  int64_t UnixMillis() const override { return 1'700'000'000'000; }
  std::chrono::steady_clock::time_point now{};
};

class SecretMatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<MasterKey> key = MasterKey::FromBytes(std::string(MasterKey::kSize, 'k'));
    ASSERT_TRUE(key.ok());
    Result<SecretStore> store =
        SecretStore::Open(tmp_.path() + "/secrets", std::move(key).value(), &clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_.emplace(std::move(store).value());
    ASSERT_TRUE(store_->Put("ingest-token", SecretValue("ing_first")).ok());
  }

  testing::TempDir tmp_;
  SteppedClock clock_;
  std::optional<SecretStore> store_;
};

TEST_F(SecretMatcherTest, MatchesOnlyTheCurrentValue) {
  SecretMatcher matcher(&*store_, "ingest-token", &clock_);
  EXPECT_TRUE(matcher.Matches("ing_first"));
  EXPECT_FALSE(matcher.Matches("ing_firsT"));
  EXPECT_FALSE(matcher.Matches("ing_firs"));
  EXPECT_FALSE(matcher.Matches(""));
}

TEST_F(SecretMatcherTest, RotationTakesEffectAfterTheRecheckInterval) {
  SecretMatcher matcher(&*store_, "ingest-token", &clock_, seconds(1));
  ASSERT_TRUE(matcher.Matches("ing_first"));
  ASSERT_TRUE(store_->Put("ingest-token", SecretValue("ing_second")).ok());
  // Within the interval the cached value is used (no file read per request).
  EXPECT_TRUE(matcher.Matches("ing_first"));
  clock_.now += seconds(1);
  EXPECT_TRUE(matcher.Matches("ing_second"));
  EXPECT_FALSE(matcher.Matches("ing_first"));
}

TEST_F(SecretMatcherTest, UnknownSecretMatchesNothing) {
  SecretMatcher matcher(&*store_, "no-such-secret", &clock_);
  EXPECT_FALSE(matcher.Matches(""));
  EXPECT_FALSE(matcher.Matches("ing_first"));
}

}  // namespace
}  // namespace auri
