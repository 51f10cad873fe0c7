#include "delivery/webhook_signature.h"

#include <gtest/gtest.h>

namespace auri::delivery {
namespace {

// The test vector published with the Standard Webhooks reference libraries (their sign() tests):
// secret, msg id, timestamp and payload → exactly this signature. Reproducing it is what tells
// that receivers' standard libraries accept ours (prefix, delimiter, base64 alphabet, key
// decoding).
TEST(WebhookSignature, ReproducesTheStandardWebhooksTestVector) {
  auto key = DecodeSigningSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(
      SignWebhook(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignature, PrefixIsOptionalLikeTheReferenceLibraries) {
  auto with = DecodeSigningSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  auto without = DecodeSigningSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_EQ(*with, *without);
}

TEST(WebhookSignature, RejectsSecretThatIsNotBase64) {
  auto key = DecodeSigningSecret("whsec_!!!");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("whsec_"), std::string::npos);
}

TEST(WebhookSignature, RotationSendsCurrentThenPreviousSpaceSeparated) {
  std::string current = "current-key", previous = "previous-key";
  std::string header = SignatureHeader({current, previous}, "id1", 10, "{}");
  EXPECT_EQ(header,
            SignWebhook(current, "id1", 10, "{}") + " " + SignWebhook(previous, "id1", 10, "{}"));
  EXPECT_NE(SignWebhook(current, "id1", 10, "{}"), SignWebhook(previous, "id1", 10, "{}"));
}

}  // namespace
}  // namespace auri::delivery
