#include "secrets/secret_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/fs.h"
#include "common/random.h"
#include "temp_dir.h"  // same folder; tests/ is not on the include path

namespace auri {
namespace {

using testing::ModeOf;
using testing::TempDir;

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const override { return {}; }
  int64_t UnixMillis() const override { return now_ms; }
  int64_t now_ms = 1'700'000'000'000;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

PutOptions WithKeyId(std::string key_id) {
  PutOptions options;
  options.key_id = std::move(key_id);
  return options;
}

PutOptions NotCurrent() {
  PutOptions options;
  options.make_current = false;
  return options;
}

class SecretStoreTest : public ::testing::Test {
 protected:
  std::string StoreDir() const { return tmp_.path() + "/secrets"; }

  SecretStore OpenStore(MasterKey key) {
    Result<SecretStore> store = SecretStore::Open(StoreDir(), std::move(key), &clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  }
  SecretStore OpenStore() {
    Result<MasterKey> key = MasterKey::FromBytes(key_bytes_);
    return OpenStore(std::move(key).value());
  }

  int PutOk(SecretStore& store, std::string_view name, const std::string& value,
            const PutOptions& options = {}) {
    Result<int> version = store.Put(name, SecretValue(value), options);
    EXPECT_TRUE(version.ok()) << version.status().ToString();
    return version.ok() ? *version : -1;
  }

  std::vector<Label> LabelsOf(const SecretStore& store, std::string_view name, int version) {
    Result<SecretVersion> v = store.GetVersion(name, version);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->info.labels : std::vector<Label>{};
  }

  TempDir tmp_;
  FakeClock clock_;
  std::string key_bytes_ = std::string(MasterKey::kSize, 'k');
};

TEST_F(SecretStoreTest, PutThenGetReturnsTheValueAndItsMetadata) {
  SecretStore store = OpenStore();
  int version = PutOk(store, "database-url", "postgres://u:p@h/db", WithKeyId("k-00000001"));

  Result<SecretVersion> got = store.Get("database-url");

  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(version, 1);
  EXPECT_EQ(got->name, "database-url");
  EXPECT_EQ(got->value.reveal(), "postgres://u:p@h/db");
  EXPECT_EQ(got->info.version, 1);
  EXPECT_EQ(got->info.created_at_ms, clock_.now_ms);
  EXPECT_EQ(got->info.key_id, "k-00000001");
  EXPECT_EQ(got->info.labels, std::vector<Label>{Label::kCurrent});
}

TEST_F(SecretStoreTest, BinaryValuesSurviveTheRoundTrip) {
  SecretStore store = OpenStore();
  std::string value("\0\n\xff binary\n\n", 12);
  PutOk(store, "blob", value);
  Result<SecretVersion> got = store.Get("blob");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->value.reveal(), value);
}

TEST_F(SecretStoreTest, PutMakesNewVersionCurrentAndOldCurrentPrevious) {
  SecretStore store = OpenStore();
  EXPECT_EQ(PutOk(store, "api", "one"), 1);
  EXPECT_EQ(PutOk(store, "api", "two"), 2);
  EXPECT_EQ(PutOk(store, "api", "three"), 3);

  EXPECT_EQ(LabelsOf(store, "api", 3), std::vector<Label>{Label::kCurrent});
  EXPECT_EQ(LabelsOf(store, "api", 2), std::vector<Label>{Label::kPrevious});
  EXPECT_TRUE(LabelsOf(store, "api", 1).empty());
  EXPECT_EQ(store.Get("api", Label::kPrevious)->value.reveal(), "two");
  EXPECT_EQ(store.GetVersion("api", 1)->value.reveal(), "one");
}

TEST_F(SecretStoreTest, PutWithoutMakeCurrentChangesNoLabel) {
  SecretStore store = OpenStore();
  PutOk(store, "api", "one");
  int staged = PutOk(store, "api", "two", NotCurrent());

  EXPECT_EQ(store.Get("api")->value.reveal(), "one");
  EXPECT_TRUE(LabelsOf(store, "api", staged).empty());
  Result<SecretVersion> previous = store.Get("api", Label::kPrevious);
  EXPECT_EQ(previous.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(previous.status().message(), "secret \"api\" has no previous version");
}

TEST_F(SecretStoreTest, PromoteMakesPendingCurrentAndKeepsOldCurrentAsPrevious) {
  SecretStore store = OpenStore();
  PutOk(store, "api", "one");
  int staged = PutOk(store, "api", "two", NotCurrent());
  ASSERT_TRUE(store.SetLabel("api", Label::kPending, staged).ok());
  EXPECT_EQ(store.Get("api", Label::kPending)->value.reveal(), "two");

  ASSERT_TRUE(store.Promote("api", staged).ok());

  EXPECT_EQ(LabelsOf(store, "api", staged), std::vector<Label>{Label::kCurrent});
  EXPECT_EQ(LabelsOf(store, "api", 1), std::vector<Label>{Label::kPrevious});
}

TEST_F(SecretStoreTest, ClearLabelRemovesOnlyThatLabel) {
  SecretStore store = OpenStore();
  PutOk(store, "api", "one");
  PutOk(store, "api", "two");
  ASSERT_TRUE(store.ClearLabel("api", Label::kPrevious).ok());
  ASSERT_TRUE(store.ClearLabel("api", Label::kPrevious).ok()) << "clearing twice is fine";
  EXPECT_TRUE(LabelsOf(store, "api", 1).empty());
  EXPECT_EQ(LabelsOf(store, "api", 2), std::vector<Label>{Label::kCurrent});
}

TEST_F(SecretStoreTest, SetLabelOnUnknownVersionIsNotFound) {
  SecretStore store = OpenStore();
  PutOk(store, "api", "one");
  Status s = store.SetLabel("api", Label::kPending, 7);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "secret \"api\" has no version 7");
}

TEST_F(SecretStoreTest, SetNotAfterIsRecordedAndCanBeCleared) {
  SecretStore store = OpenStore();
  PutOk(store, "jwt", "key");
  ASSERT_TRUE(store.SetNotAfter("jwt", 1, 1'800'000'000'000).ok());
  EXPECT_EQ(store.Get("jwt")->info.not_after_ms, 1'800'000'000'000);
  ASSERT_TRUE(store.SetNotAfter("jwt", 1, std::nullopt).ok());
  EXPECT_FALSE(store.Get("jwt")->info.not_after_ms.has_value());
}

TEST_F(SecretStoreTest, GetOfUnknownSecretIsNotFoundWithHint) {
  SecretStore store = OpenStore();
  Result<SecretVersion> got = store.Get("nope");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "no secret named \"nope\" in " + StoreDir());
  EXPECT_EQ(got.status().hint(), "list the secrets with `auri secrets list`");
}

TEST_F(SecretStoreTest, WrongMasterKeyIsRejectedWithMessage) {
  {
    SecretStore store = OpenStore();
    PutOk(store, "telegram-bot-token", "123:abc");
  }
  SecretStore other = OpenStore(MasterKey::Generate());

  Result<SecretVersion> got = other.Get("telegram-bot-token");

  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(got.status().message(),
            "cannot decrypt secret telegram-bot-token version 1: wrong master key or corrupted "
            "file");
  EXPECT_NE(got.status().hint().find("master key"), std::string::npos) << got.status().hint();
  EXPECT_EQ(other.VerifyAll().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SecretStoreTest, TamperedCiphertextByteIsRejected) {
  SecretStore store = OpenStore();
  PutOk(store, "api", "a value long enough to have a middle");
  std::string file = StoreDir() + "/api/v1.sealed";
  std::string sealed = ReadAll(file);
  ASSERT_GT(sealed.size(), 60u);
  sealed[sealed.size() - 5] ^= 0x01;
  WriteAll(file, sealed);

  Result<SecretVersion> got = store.Get("api");

  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(got.status().message(),
            "cannot decrypt secret api version 1: wrong master key or corrupted file");
}

TEST_F(SecretStoreTest, FileCopiedToAnotherSecretIsRejected) {
  SecretStore store = OpenStore();
  PutOk(store, "alpha", "alpha's value");
  PutOk(store, "beta", "beta's value");
  std::filesystem::copy_file(StoreDir() + "/alpha/v1.sealed", StoreDir() + "/beta/v1.sealed",
                             std::filesystem::copy_options::overwrite_existing);

  Result<SecretVersion> got = store.Get("beta");

  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(got.status().message(), "file " + StoreDir() +
                                        "/beta/v1.sealed holds secret alpha version 1, not secret "
                                        "beta version 1");
}

TEST_F(SecretStoreTest, FileCopiedToAnotherVersionIsRejected) {
  SecretStore store = OpenStore();
  PutOk(store, "api", "old");
  PutOk(store, "api", "new");
  // A rollback attempt: put the old version's file in place of the current one.
  std::filesystem::copy_file(StoreDir() + "/api/v1.sealed", StoreDir() + "/api/v2.sealed",
                             std::filesystem::copy_options::overwrite_existing);

  Result<SecretVersion> got = store.Get("api");

  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(got.status().message().find("holds secret api version 1, not secret api version 2"),
            std::string::npos)
      << got.status().message();
}

TEST_F(SecretStoreTest, FilesAreMode0600AndDirectoriesMode0700) {
  SecretStore store = OpenStore();
  PutOk(store, "api", "value");

  EXPECT_EQ(ModeOf(StoreDir()), 0700);
  EXPECT_EQ(ModeOf(StoreDir() + "/api"), 0700);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(StoreDir())) {
    if (entry.is_regular_file()) {
      EXPECT_EQ(ModeOf(entry.path()), 0600) << entry.path();
    }
  }
  EXPECT_TRUE(PathExists(StoreDir() + "/api/meta.json"));
  EXPECT_TRUE(PathExists(StoreDir() + "/api/v1.sealed"));
}

TEST_F(SecretStoreTest, DirectoryAccessibleByOthersIsRefused) {
  ASSERT_TRUE(MakeDirectories(StoreDir(), 0755).ok());
  ::chmod(StoreDir().c_str(), 0755);
  Result<SecretStore> store = SecretStore::Open(StoreDir(), MasterKey::Generate());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(),
            "secret directory " + StoreDir() + " is accessible by group or others");
  EXPECT_EQ(store.status().hint(), "chmod 700 " + StoreDir());
}

TEST_F(SecretStoreTest, ValuesAreNeverWrittenInPlaintext) {
  SecretStore store = OpenStore();
  const std::string value = "very-distinctive-secret-value-4711";
  PutOk(store, "api", value, WithKeyId("k-visible"));
  for (const auto& entry : std::filesystem::recursive_directory_iterator(StoreDir())) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(ReadAll(entry.path()).find(value), std::string::npos) << entry.path();
  }
}

TEST_F(SecretStoreTest, ListReturnsNamesVersionsAndLabelsButNoValues) {
  SecretStore store = OpenStore();
  PutOk(store, "beta", "b1");
  PutOk(store, "alpha", "a1", WithKeyId("k-aaaa"));
  PutOk(store, "alpha", "a2", WithKeyId("k-bbbb"));

  Result<std::vector<SecretInfo>> list = store.List();

  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  const SecretInfo& alpha = (*list)[0];
  EXPECT_EQ(alpha.name, "alpha");
  ASSERT_EQ(alpha.versions.size(), 2u);
  EXPECT_EQ(alpha.versions[0].version, 1);
  EXPECT_EQ(alpha.versions[0].key_id, "k-aaaa");
  EXPECT_EQ(alpha.versions[0].labels, std::vector<Label>{Label::kPrevious});
  EXPECT_EQ(alpha.versions[1].labels, std::vector<Label>{Label::kCurrent});
  EXPECT_EQ(alpha.versions[1].created_at_ms, clock_.now_ms);
  EXPECT_EQ((*list)[1].name, "beta");
  // SecretInfo has no value field at all; check no listed string carries one either.
  for (const auto& s : *list) {
    for (const auto& v : s.versions) {
      EXPECT_EQ(v.key_id.find("a1"), std::string::npos);
      EXPECT_EQ(v.key_id.find("b1"), std::string::npos);
    }
  }
}

TEST_F(SecretStoreTest, InvalidNamesAreRejected) {
  SecretStore store = OpenStore();
  for (const std::string& bad :
       std::vector<std::string>{"", "-leading-dash", "Upper", "has space", "../escape", "a/b",
                                "dot.ted", std::string(64, 'a')}) {
    Result<int> put = store.Put(bad, SecretValue("v"));
    ASSERT_FALSE(put.ok()) << bad;
    EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(put.status().message().rfind("invalid secret name", 0), 0u) << bad;
  }
  EXPECT_TRUE(store.Put(std::string(63, 'a'), SecretValue("v")).ok());
  EXPECT_TRUE(store.Put("0-ok-name", SecretValue("v")).ok());
}

TEST_F(SecretStoreTest, ValuesOver64KiBAreRejectedAnd64KiBIsAccepted) {
  SecretStore store = OpenStore();
  Result<int> too_big = store.Put("big", SecretValue(std::string(size_t{64} * 1024 + 1, 'x')));
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(too_big.status().message(),
            "secret value of 65537 bytes is over the limit of 65536 bytes");

  ASSERT_TRUE(store.Put("big", SecretValue(std::string(size_t{64} * 1024, 'x'))).ok());
  EXPECT_EQ(store.Get("big")->value.size(), 64u * 1024);
}

TEST_F(SecretStoreTest, EmptyValueIsRejected) {
  SecretStore store = OpenStore();
  EXPECT_EQ(store.Put("api", SecretValue("")).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SecretStoreTest, DuplicateKeyIdWithinASecretIsRejected) {
  SecretStore store = OpenStore();
  PutOk(store, "jwt-signing-key", "one", WithKeyId("k-1"));
  Result<int> again = store.Put("jwt-signing-key", SecretValue("two"), WithKeyId("k-1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(SecretStoreTest, EnsureInitialSecretsCreatesTheDocumentedFormats) {
  SecretStore store = OpenStore();
  ASSERT_TRUE(store.EnsureInitialSecrets().ok());

  Result<SecretVersion> jwt = store.Get("jwt-signing-key");
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  EXPECT_TRUE(std::regex_match(jwt->info.key_id, std::regex("k-[0-9a-f]{8}"))) << jwt->info.key_id;
  EXPECT_TRUE(std::regex_match(jwt->value.reveal(), std::regex("[A-Za-z0-9_-]{43}")));

  Result<SecretVersion> ingest = store.Get("ingest-token");
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  EXPECT_EQ(ingest->value.size(), 47u);
  EXPECT_TRUE(std::regex_match(ingest->value.reveal(), std::regex("ing_[A-Za-z0-9_-]{43}")));

  Result<SecretVersion> webhook = store.Get("webhook-signing-secret");
  ASSERT_TRUE(webhook.ok()) << webhook.status().ToString();
  const std::string& whsec = webhook->value.reveal();
  ASSERT_EQ(whsec.rfind("whsec_", 0), 0u);
  std::string key;
  ASSERT_TRUE(Base64Decode(whsec.substr(6), &key));
  EXPECT_EQ(key.size(), 32u);

  Result<SecretVersion> cipher = store.Get("backup-cipher-pass");
  ASSERT_TRUE(cipher.ok()) << cipher.status().ToString();
  EXPECT_TRUE(std::regex_match(cipher->value.reveal(), std::regex("[A-Za-z0-9_-]{43}")));
}

TEST_F(SecretStoreTest, EnsureInitialSecretsIsIdempotent) {
  SecretStore store = OpenStore();
  ASSERT_TRUE(store.EnsureInitialSecrets().ok());
  std::string jwt_before = store.Get("jwt-signing-key")->value.reveal();
  uint64_t generation_before = *store.Generation();

  ASSERT_TRUE(store.EnsureInitialSecrets().ok());

  Result<std::vector<SecretInfo>> list = store.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 4u);
  for (const auto& s : *list) EXPECT_EQ(s.versions.size(), 1u) << s.name;
  EXPECT_EQ(store.Get("jwt-signing-key")->value.reveal(), jwt_before);
  EXPECT_EQ(*store.Generation(), generation_before);
}

TEST_F(SecretStoreTest, EnsureInitialSecretsLeavesExistingSecretsAlone) {
  SecretStore store = OpenStore();
  PutOk(store, "ingest-token", "ing_operator-chosen");
  ASSERT_TRUE(store.EnsureInitialSecrets().ok());
  EXPECT_EQ(store.Get("ingest-token")->value.reveal(), "ing_operator-chosen");
  EXPECT_TRUE(store.Get("jwt-signing-key").ok());
}

TEST_F(SecretStoreTest, GenerationChangesOnEveryWriteAndNotOnReads) {
  SecretStore store = OpenStore();
  EXPECT_EQ(*store.Generation(), 0u);

  PutOk(store, "api", "one");
  uint64_t after_put = *store.Generation();
  EXPECT_NE(after_put, 0u);

  ASSERT_TRUE(store.Get("api").ok());
  ASSERT_TRUE(store.List().ok());
  EXPECT_EQ(*store.Generation(), after_put);

  PutOk(store, "api", "two");
  uint64_t after_second_put = *store.Generation();
  EXPECT_NE(after_second_put, after_put);

  ASSERT_TRUE(store.SetLabel("api", Label::kPending, 1).ok());
  EXPECT_NE(*store.Generation(), after_second_put);
}

TEST_F(SecretStoreTest, GenerationIsSeenByAnotherStoreOnTheSameDirectory) {
  SecretStore writer = OpenStore();
  SecretStore reader = OpenStore();
  uint64_t before = *reader.Generation();
  PutOk(writer, "api", "one");
  EXPECT_NE(*reader.Generation(), before);
  EXPECT_EQ(reader.Get("api")->value.reveal(), "one");
}

TEST_F(SecretStoreTest, ConcurrentPutsFromTwoThreadsGetDistinctConsecutiveVersions) {
  SecretStore store = OpenStore();
  constexpr int kPerThread = 25;
  std::vector<int> versions[2];
  auto writer = [&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      Result<int> v =
          store.Put("shared", SecretValue("t" + std::to_string(t) + "-" + std::to_string(i)));
      if (v.ok()) versions[t].push_back(*v);
    }
  };
  std::thread a(writer, 0), b(writer, 1);
  a.join();
  b.join();

  std::vector<int> all = versions[0];
  all.insert(all.end(), versions[1].begin(), versions[1].end());
  std::sort(all.begin(), all.end());
  std::vector<int> expected(size_t{2} * kPerThread);
  for (int i = 0; i < 2 * kPerThread; ++i) expected[i] = i + 1;
  EXPECT_EQ(all, expected);
  EXPECT_EQ(store.Get("shared")->info.version, 2 * kPerThread);
  EXPECT_TRUE(store.VerifyAll().ok());
}

TEST_F(SecretStoreTest, ConcurrentPutsFromTwoProcessesDoNotCorruptTheStore) {
  constexpr int kPerProcess = 20;
  // Create the directory before forking so both processes open an existing store.
  { SecretStore init = OpenStore(); }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SecretStore store = OpenStore();
    int failures = 0;
    for (int i = 0; i < kPerProcess; ++i) {
      if (!store.Put("shared", SecretValue("child-" + std::to_string(i))).ok()) ++failures;
    }
    ::_exit(failures == 0 ? 0 : 1);
  }
  SecretStore store = OpenStore();
  for (int i = 0; i < kPerProcess; ++i) {
    EXPECT_TRUE(store.Put("shared", SecretValue("parent-" + std::to_string(i))).ok());
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "the child's Puts failed";

  Result<std::vector<SecretInfo>> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  ASSERT_EQ((*list)[0].versions.size(), 2u * kPerProcess);
  for (int i = 0; i < 2 * kPerProcess; ++i) EXPECT_EQ((*list)[0].versions[i].version, i + 1);
  EXPECT_TRUE(store.VerifyAll().ok());
  EXPECT_EQ(store.Get("shared")->info.version, 2 * kPerProcess);
  EXPECT_EQ(store.Get("shared", Label::kPrevious)->info.version, 2 * kPerProcess - 1);
}

TEST(SecretValueTest, GoogleTestPrintsSizeNotBytes) {
  EXPECT_EQ(::testing::PrintToString(SecretValue("hunter2")), "SecretValue(<7 bytes>)");
}

TEST(SecretValueTest, MoveLeavesTheSourceEmpty) {
  for (std::string text : {std::string("short"), std::string(100, 'L')}) {
    SecretValue a(text);
    SecretValue b(std::move(a));
    EXPECT_EQ(b.reveal(), text);
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the behaviour under test
    SecretValue c;
    c = std::move(b);
    EXPECT_EQ(c.reveal(), text);
    EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  }
}

TEST(LabelTest, NamesRoundTrip) {
  for (Label l : {Label::kCurrent, Label::kPrevious, Label::kPending}) {
    Label parsed;
    ASSERT_TRUE(ParseLabel(LabelName(l), &parsed));
    EXPECT_EQ(parsed, l);
  }
  Label ignored;
  EXPECT_FALSE(ParseLabel("latest", &ignored));
}

}  // namespace
}  // namespace auri
