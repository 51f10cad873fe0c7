#include "config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "common/fs.h"
#include "config/active_database.h"

namespace auri {
namespace {

std::string WriteTempToml(const std::string& text) {
  char path[] = "/tmp/auri-config-XXXXXX";
  int fd = ::mkstemp(path);
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, DefaultsAreValidAndHomeIsAbsolute) {
  auto config = LoadConfig({});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->api.port, 8480);
  EXPECT_EQ(config->api.body_limit_bytes, 1 << 20);
  EXPECT_EQ(config->home.front(), '/');
  EXPECT_TRUE(config->EmbeddedPostgres());
}

TEST(ConfigTest, Argon2CostDefaultsToInteractiveAndRefusesUnknownNames) {
  auto config = LoadConfig({});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->auth.argon2, "interactive");
  ConfigSources sources;
  sources.overrides = {"auth.argon2=minimum"};
  config = LoadConfig(sources);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->auth.argon2, "minimum");
  sources.overrides = {"auth.argon2=fast"};
  config = LoadConfig(sources);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("auth.argon2"), std::string::npos);
}

TEST(ConfigTest, LaterSourcesWin) {
  std::string file = WriteTempToml("[api]\nport = 9001\nthreads = 3\n");
  ConfigSources sources;
  sources.file = file;
  sources.env = {{"AURI_API_PORT", "9002"}};
  sources.overrides = {"api.threads=4"};
  auto config = LoadConfig(sources);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->api.port, 9002);  // env beats file
  EXPECT_EQ(config->api.threads, 4);  // --set beats file
  ::unlink(file.c_str());
}

TEST(ConfigTest, UnknownKeyInFileIsAnErrorNamingTheKey) {
  std::string file = WriteTempToml("[api]\nprot = 9001\n");
  auto config = LoadConfig({file, true, {}, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("api.prot"), std::string::npos);
  ::unlink(file.c_str());
}

TEST(ConfigTest, OutOfRangeIntegerIsRejectedWithTheRange) {
  auto config = LoadConfig({"", false, {{"AURI_API_PORT", "70000"}}, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("1..65535"), std::string::npos);
  EXPECT_NE(config.status().message().find("AURI_API_PORT"), std::string::npos);
}

TEST(ConfigTest, WrongTomlTypeIsRejected) {
  std::string file = WriteTempToml("[api]\nport = \"eighty\"\n");
  auto config = LoadConfig({file, true, {}, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("expected an integer"), std::string::npos);
  ::unlink(file.c_str());
}

TEST(ConfigTest, MissingExplicitFileIsAnError) {
  auto config = LoadConfig({"/nonexistent/auri.toml", true, {}, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_FALSE(config.status().hint().empty());
}

TEST(ConfigTest, SyntaxErrorNamesTheLine) {
  std::string file = WriteTempToml("[api]\nport = 80\nthreads = \n");
  auto config = LoadConfig({file, true, {}, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("line 3"), std::string::npos);
  ::unlink(file.c_str());
}

TEST(ConfigTest, ExternalRedisUrlGivesHostAndPort) {
  auto config = LoadConfig({"", false, {{"AURI_REDIS_URL", "redis://10.0.0.5:6380"}}, {}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->RedisHost(), "10.0.0.5");
  EXPECT_EQ(config->RedisPort(), 6380);
  EXPECT_FALSE(config->EmbeddedRedis());
}

TEST(ConfigTest, ExampleFileLoads) {
  auto config =
      LoadConfig({std::string(AURI_SOURCE_DIR) + "/config/auri.example.toml", true, {}, {}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
}

// docs/configuration.md is generated from the option table; it must not drift from the code.
TEST(ConfigTest, ReferenceDocMatchesTheOptionTable) {
  auto doc = ReadFileLimited(std::string(AURI_SOURCE_DIR) + "/docs/configuration.md", 1 << 20);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(*doc, RenderConfigReference())
      << "regenerate with: ./build/auri config reference > docs/configuration.md";
}

}  // namespace
}  // namespace auri

namespace auri {
namespace {

// After `auri restore --switch` the record <home>/postgres/active.json names the stack's database;
// it wins over every source, or a command run with the old `--set postgres.port` would talk to
// the stopped original cluster.
TEST(ActiveDatabaseTest, RecordOverridesPortAndDirectoriesOverEverySource) {
  char tmpl[] = "/tmp/auri-active-XXXXXX";
  std::string home = ::mkdtemp(tmpl);
  ActiveDatabase record;
  record.instance = "recovered";
  record.data_dir = home + "/instances/recovered/data";
  record.socket_dir = home + "/instances/recovered/run";
  record.port = 40123;
  record.previous_data_dir = home + "/postgres/data";
  record.previous_port = 15432;
  ASSERT_TRUE(WriteActiveDatabase(home, record).ok());

  ConfigSources sources;
  sources.overrides = {"general.home=" + home, "postgres.port=15432"};
  auto config = LoadConfig(sources);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->postgres.port, 40123);
  EXPECT_EQ(config->PostgresDataDir(), record.data_dir);
  EXPECT_EQ(config->PostgresSocketDir(), record.socket_dir);
  EXPECT_EQ(config->postgres.active_instance, "recovered");
  EXPECT_NE(config->DatabaseDsn().find("port=40123"), std::string::npos);

  // An external database ignores it.
  sources.overrides.push_back("postgres.dsn=host=db.example port=5432 dbname=auri");
  config = LoadConfig(sources);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->postgres.active_instance, "");

  // Without the record: the original cluster.
  ::unlink(ActiveDatabaseFile(home).c_str());
  sources.overrides = {"general.home=" + home, "postgres.port=15432"};
  config = LoadConfig(sources);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->postgres.port, 15432);
  EXPECT_EQ(config->PostgresDataDir(), home + "/postgres/data");
}

TEST(ActiveDatabaseTest, MalformedRecordIsAnErrorNamingTheFile) {
  char tmpl[] = "/tmp/auri-active-XXXXXX";
  std::string home = ::mkdtemp(tmpl);
  ASSERT_TRUE(MakeDirectories(home + "/postgres").ok());
  std::ofstream(ActiveDatabaseFile(home)) << "{\"instance\": \"x\", \"port\": \"not a number\"}";
  ConfigSources sources;
  sources.overrides = {"general.home=" + home};
  auto config = LoadConfig(sources);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("active.json"), std::string::npos)
      << config.status().message();
}

}  // namespace
}  // namespace auri
