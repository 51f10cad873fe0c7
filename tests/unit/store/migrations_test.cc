// Embedded migrations and the plan that decides what to apply. No database: PlanMigrations is
// pure; applying against a real PostgreSQL is covered in tests/integration/store.
#include "store/migrations.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "store/sha256.h"

namespace auri {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<fs::path> SqlFilesOnDisk() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(fs::path(AURI_SOURCE_DIR) / "migrations")) {
    if (entry.path().extension() == ".sql") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Migration Make(int version, std::string name, std::string sql) {
  Migration m;
  m.version = version;
  m.name = std::move(name);
  m.sql = std::move(sql);
  m.checksum = Sha256Hex(m.sql);
  return m;
}

AppliedMigration Recorded(const Migration& m) { return {m.version, m.name, m.checksum}; }

TEST(Sha256HexTest, MatchesTheStandardTestVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(EmbeddedMigrationsTest, AreAscendingAndUnique) {
  const auto& all = EmbeddedMigrations();
  ASSERT_FALSE(all.empty());
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].version, all[i].version) << all[i - 1].name << " then " << all[i].name;
  }
  EXPECT_EQ(BinarySchemaVersion(), all.back().version);
}

TEST(EmbeddedMigrationsTest, NamesCarryTheirVersion) {
  for (const Migration& m : EmbeddedMigrations()) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(m.name, match, std::regex("([0-9]{4})_[a-z0-9_]+"))) << m.name;
    EXPECT_EQ(std::stoi(match[1].str()), m.version) << m.name;
  }
}

TEST(EmbeddedMigrationsTest, AreExactlyTheFilesInTheMigrationsFolder) {
  std::vector<fs::path> files = SqlFilesOnDisk();
  const auto& all = EmbeddedMigrations();
  ASSERT_EQ(files.size(), all.size()) << "rebuild after adding or removing a migration";
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].stem().string(), all[i].name);
    EXPECT_EQ(ReadFile(files[i]), all[i].sql) << all[i].name << " differs from the file on disk";
  }
}

TEST(EmbeddedMigrationsTest, ChecksumIsTheSha256OfTheFileContent) {
  std::vector<fs::path> files = SqlFilesOnDisk();
  const auto& all = EmbeddedMigrations();
  ASSERT_EQ(files.size(), all.size());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(all[i].checksum, Sha256Hex(ReadFile(files[i]))) << all[i].name;
    EXPECT_TRUE(std::regex_match(all[i].checksum, std::regex("[0-9a-f]{64}")));
  }
}

TEST(PlanMigrationsTest, AnEmptyDatabaseGetsEveryMigrationInOrder) {
  std::vector<Migration> embedded = {Make(1, "0001_a", "a"), Make(2, "0002_b", "b")};
  auto plan = PlanMigrations({}, embedded);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0]->name, "0001_a");
  EXPECT_EQ((*plan)[1]->name, "0002_b");
}

TEST(PlanMigrationsTest, OnlyTheUnappliedTailIsPlanned) {
  std::vector<Migration> embedded = {Make(1, "0001_a", "a"), Make(2, "0002_b", "b")};
  auto plan = PlanMigrations({Recorded(embedded[0])}, embedded);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_EQ((*plan)[0]->version, 2);

  auto nothing = PlanMigrations({Recorded(embedded[1]), Recorded(embedded[0])}, embedded);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());
}

TEST(PlanMigrationsTest, AnAppliedFileThatChangedIsRefusedByName) {
  std::vector<Migration> embedded = {Make(1, "0001_core", "create table a();")};
  AppliedMigration recorded = Recorded(Make(1, "0001_core", "create table b();"));
  auto plan = PlanMigrations({recorded}, embedded);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("0001_core.sql changed after it was applied"),
            std::string::npos)
      << plan.status().message();
  EXPECT_NE(plan.status().hint().find("never edit an applied migration"), std::string::npos);
}

TEST(PlanMigrationsTest, ARenamedAppliedFileIsRefused) {
  std::vector<Migration> embedded = {Make(1, "0001_core", "x")};
  AppliedMigration recorded{1, "0001_old", embedded[0].checksum};
  auto plan = PlanMigrations({recorded}, embedded);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("0001_old.sql"), std::string::npos);
}

TEST(PlanMigrationsTest, ADatabaseNewerThanTheBinaryIsRefused) {
  std::vector<Migration> embedded = {Make(1, "0001_a", "a")};
  auto plan = PlanMigrations({Recorded(embedded[0]), {2, "0002_future", "ff"}}, embedded);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("at version 2 (0002_future.sql), newer than this "
                                         "binary's 1"),
            std::string::npos)
      << plan.status().message();
}

TEST(PlanMigrationsTest, AnAppliedMigrationMissingFromTheBinaryIsRefused) {
  std::vector<Migration> embedded = {Make(1, "0001_a", "a"), Make(3, "0003_c", "c")};
  auto plan = PlanMigrations({Recorded(embedded[0]), {2, "0002_gone", "ff"}}, embedded);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("0002_gone.sql is not in this binary"), std::string::npos)
      << plan.status().message();
}

TEST(PlanMigrationsTest, AMigrationOlderThanTheNewestAppliedIsRefused) {
  std::vector<Migration> embedded = {Make(1, "0001_a", "a"), Make(2, "0002_late", "b"),
                                     Make(3, "0003_c", "c")};
  auto plan = PlanMigrations({Recorded(embedded[0]), Recorded(embedded[2])}, embedded);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("0002_late.sql is not applied"), std::string::npos)
      << plan.status().message();
}

}  // namespace
}  // namespace auri
