#include "secrets/master_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <string>

#include "common/fs.h"
#include "common/random.h"
#include "temp_dir.h"  // same folder; tests/ is not on the include path

namespace auri {
namespace {

using testing::ModeOf;
using testing::TempDir;

std::string RandomKeyBase64(std::string* raw = nullptr) {
  std::string bytes(MasterKey::kSize, '\0');
  RandomBytes(bytes.data(), bytes.size());
  if (raw) *raw = bytes;
  return Base64Encode(bytes);
}

bool KeyEquals(const MasterKey& key, const std::string& raw) {
  return raw.size() == key.size() && std::memcmp(key.data(), raw.data(), raw.size()) == 0;
}

TEST(MasterKeyTest, EnvKeyWinsOverKeyFile) {
  TempDir tmp;
  std::string file = tmp.path() + "/master.key";
  std::string file_raw, env_raw;
  ASSERT_TRUE(WriteFileAtomically(file, RandomKeyBase64(&file_raw) + "\n", 0600).ok());
  std::string env = RandomKeyBase64(&env_raw);

  Result<MasterKey> key = LoadOrCreateMasterKey(env, file, /*create_if_missing=*/false);

  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(KeyEquals(*key, env_raw));
  EXPECT_FALSE(KeyEquals(*key, file_raw));
}

TEST(MasterKeyTest, EnvKeyIsUsedEvenWhenKeyFileIsMissing) {
  TempDir tmp;
  std::string raw;
  Result<MasterKey> key =
      LoadOrCreateMasterKey(RandomKeyBase64(&raw) + "\n", tmp.path() + "/absent.key", false);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(KeyEquals(*key, raw));
  EXPECT_FALSE(PathExists(tmp.path() + "/absent.key"));
}

TEST(MasterKeyTest, MalformedEnvKeyIsRejectedWithoutEchoingIt) {
  TempDir tmp;
  std::string short_key = Base64Encode("only sixteen byt");
  Result<MasterKey> key = LoadOrCreateMasterKey(short_key, tmp.path() + "/master.key", true);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(key.status().message(), "AURI_MASTER_KEY is not base64 of exactly 32 bytes");
  EXPECT_EQ(key.status().ToString().find(short_key), std::string::npos);
}

TEST(MasterKeyTest, KeyFileIsReadWhenEnvIsEmpty) {
  TempDir tmp;
  std::string file = tmp.path() + "/master.key";
  std::string raw;
  ASSERT_TRUE(WriteFileAtomically(file, RandomKeyBase64(&raw) + "\n", 0600).ok());
  Result<MasterKey> key = LoadOrCreateMasterKey("", file, false);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(KeyEquals(*key, raw));
}

TEST(MasterKeyTest, KeyFileReadableByOthersIsRefusedWithChmodHint) {
  TempDir tmp;
  std::string file = tmp.path() + "/master.key";
  ASSERT_TRUE(WriteFileAtomically(file, RandomKeyBase64() + "\n", 0644).ok());

  Result<MasterKey> key = LoadOrCreateMasterKey("", file, true);

  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(key.status().message(), "master key file " + file +
                                        " has mode 0644; it must be readable by its owner only "
                                        "(0600)");
  EXPECT_EQ(key.status().hint().rfind("chmod 600 " + file, 0), 0u) << key.status().hint();
}

TEST(MasterKeyTest, KeyFileWithWrongLengthIsRefused) {
  TempDir tmp;
  std::string file = tmp.path() + "/master.key";
  ASSERT_TRUE(WriteFileAtomically(file, Base64Encode(std::string(31, 'x')), 0600).ok());
  Result<MasterKey> key = LoadOrCreateMasterKey("", file, true);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(key.status().message(),
            "master key file " + file + " does not hold base64 of exactly 32 bytes");
}

TEST(MasterKeyTest, MissingKeyFileIsNotFoundWhenCreationIsNotAllowed) {
  TempDir tmp;
  std::string file = tmp.path() + "/master.key";
  Result<MasterKey> key = LoadOrCreateMasterKey("", file, /*create_if_missing=*/false);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(key.status().message(),
            "no master key: AURI_MASTER_KEY is not set and " + file + " does not exist");
  EXPECT_FALSE(key.status().hint().empty());
  EXPECT_FALSE(PathExists(file));
}

TEST(MasterKeyTest, MissingKeyFileIsCreatedWithMode0600AndReloadsToTheSameKey) {
  TempDir tmp;
  std::string file = tmp.path() + "/home/master.key";

  Result<MasterKey> created = LoadOrCreateMasterKey("", file, /*create_if_missing=*/true);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(ModeOf(file), 0600);

  Result<MasterKey> reloaded = LoadOrCreateMasterKey("", file, /*create_if_missing=*/false);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_TRUE(created->SameKeyAs(*reloaded));
}

TEST(MasterKeyTest, MovedFromKeyIsWiped) {
  MasterKey a = MasterKey::Generate();
  const unsigned char* old_bytes = a.data();
  MasterKey b = std::move(a);
  unsigned char zeros[MasterKey::kSize] = {};
  EXPECT_EQ(std::memcmp(old_bytes, zeros, sizeof zeros), 0);
  EXPECT_NE(std::memcmp(b.data(), zeros, sizeof zeros), 0);
}

}  // namespace
}  // namespace auri
