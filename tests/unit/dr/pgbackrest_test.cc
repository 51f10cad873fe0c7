// The pure parts of the pgBackRest engine and of restore planning: info JSON parsing, the
// generated configuration, time formats, the restorable window.
#include <gtest/gtest.h>

#include "dr/pgbackrest/info_json.h"
#include "dr/pgbackrest/pgbackrest_config.h"
#include "dr/restore/restore_instance.h"

namespace auri::dr {
namespace {

// Captured from `pgbackrest info --output=json` (2.45) with two repositories, repo2 empty.
const char* kInfo = R"([{"archive":[
 {"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000003","min":"000000010000000000000001"},
 {"database":{"id":1,"repo-key":2},"id":"15-1","max":"000000010000000000000003","min":"000000010000000000000001"}],
 "backup":[
 {"annotation":{"label":"first"},"archive":{"start":"000000010000000000000002","stop":"000000010000000000000003"},
  "backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,
  "info":{"delta":23213658,"repository":{"delta":2849184,"size":2849184},"size":23213658},
  "label":"20261126-003805F","lsn":{"start":"0/2000028","stop":"0/3000050"},"prior":null,"reference":null,
  "timestamp":{"start":1795653485,"stop":1795653489},"type":"full"},
 {"archive":{"start":"000000010000000000000005","stop":"000000010000000000000005"},
  "database":{"id":1,"repo-key":1},"error":false,"info":{"repository":{"size":1000},"size":23213658},
  "label":"20261126-003805F_20261126-003900I","prior":"20261126-003805F",
  "timestamp":{"start":1795653540,"stop":1795653542},"type":"incr"}],
 "cipher":"aes-256-cbc","name":"auri",
 "repo":[{"cipher":"aes-256-cbc","key":1,"status":{"code":0,"message":"ok"}},
         {"cipher":"aes-256-cbc","key":2,"status":{"code":2,"message":"no valid backups"}}],
 "status":{"code":4,"message":"different across repos"}}])";

TEST(InfoJsonTest, ParsesBackupsLabelsSizesAndWalRanges) {
  auto catalog = ParseInfoJson(kInfo, "auri");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  ASSERT_EQ(catalog->backups.size(), 2u);
  const BackupRecord& full = catalog->backups[0];
  EXPECT_EQ(full.id, "20261126-003805F");
  EXPECT_EQ(full.label, "first");
  EXPECT_EQ(full.type, "full");
  EXPECT_EQ(full.repo, 1);
  EXPECT_EQ(full.stop_unix, 1795653489);
  EXPECT_EQ(full.size_bytes, 23213658);
  EXPECT_EQ(full.repo_size_bytes, 2849184);
  EXPECT_EQ(full.wal_start, "000000010000000000000002");
  EXPECT_EQ(full.wal_stop, "000000010000000000000003");
  EXPECT_EQ(catalog->backups[1].prior, "20261126-003805F");
  EXPECT_EQ(catalog->backups[1].label, "");
}

TEST(InfoJsonTest, ReportsEachRepositoryWithItsArchiveRange) {
  auto catalog = ParseInfoJson(kInfo, "auri");
  ASSERT_TRUE(catalog.ok());
  ASSERT_EQ(catalog->repos.size(), 2u);
  EXPECT_TRUE(catalog->repos[1].ok);  // "no valid backups" is a working, empty repository
  EXPECT_EQ(catalog->repos[1].message, "no valid backups");
  EXPECT_EQ(catalog->repos[0].wal_max, "000000010000000000000003");
}

TEST(InfoJsonTest, RejectsOtherStanzasAndNonJson) {
  EXPECT_EQ(ParseInfoJson(kInfo, "other").status().code(), StatusCode::kNotFound);
  auto bad = ParseInfoJson("ERROR: [055]: unable to load info file", "auri");
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(bad.status().message().find("unable to load info file"), std::string::npos);
}

TEST(PgBackRestConfigTest, EncryptsAndRetainsEveryRepository) {
  PgBackRestSettings s;
  s.config_file = "/h/backups/pgbackrest.conf";
  s.repo_paths = {"/h/backups/repo1", "/mnt/region2/repo2"};
  s.cipher_pass = "pass";
  s.process_max = 4;
  s.compress_level = 2;
  s.pg_data_dir = "/h/postgres/data";
  s.pg_port = 15432;
  std::string conf = RenderPgBackRestConfig(s);
  for (const char* line :
       {"repo1-path=/h/backups/repo1\n", "repo2-path=/mnt/region2/repo2\n",
        "repo1-cipher-type=aes-256-cbc\n", "repo2-cipher-pass=pass\n",
        "repo2-retention-full-type=time\n", "repo1-retention-full=14\n", "compress-type=zst\n",
        "compress-level=2\n", "process-max=4\n", "archive-async=y\n",
        "[auri]\npg1-path=/h/postgres/data\n", "pg1-port=15432\n"}) {
    EXPECT_NE(conf.find(line), std::string::npos) << line << " missing in\n" << conf;
  }
  s.cipher_type = "none";
  EXPECT_EQ(RenderPgBackRestConfig(s).find("cipher"), std::string::npos);
}

TEST(PgBackRestConfigTest, ArchiveCommandPushesThroughTheGeneratedConfig) {
  PgBackRestSettings s;
  s.config_file = "/h/backups/pgbackrest.conf";
  auto settings = ArchivingSettings(s, 5);
  EXPECT_NE(std::find(settings.begin(), settings.end(), "archive_mode=on"), settings.end());
  EXPECT_NE(std::find(settings.begin(), settings.end(), "archive_timeout=5"), settings.end());
  EXPECT_NE(std::find(settings.begin(), settings.end(),
                      "archive_command=/usr/bin/pgbackrest --config=/h/backups/pgbackrest.conf "
                      "--stanza=auri archive-push %p"),
            settings.end());
}

// A restored instance archives before pgbackrest.conf names it (`auri restore --switch`): its
// cluster, spool and lock paths go on the command line. archive-push refuses pg1-port and
// pg1-socket-path ("option 'pg-port' not valid for command 'archive-push'", exit 31), which once
// left a switched instance unable to archive.
TEST(PgBackRestConfigTest, InstanceArchiveCommandNamesItsOwnPathsAndNoConnectionOptions) {
  PgBackRestSettings s;
  s.config_file = "/h/backups/pgbackrest.conf";
  s.pg_data_dir = "/h/instances/recovered/data";
  s.pg_port = 40000;
  s.pg_socket_dir = "/h/instances/recovered/run";
  s.spool_path = "/h/instances/recovered/spool";
  s.lock_path = "/h/instances/recovered/lock";
  EXPECT_EQ(ArchiveCommandFor(s),
            "/usr/bin/pgbackrest --config=/h/backups/pgbackrest.conf --stanza=auri "
            "--pg1-path=/h/instances/recovered/data --spool-path=/h/instances/recovered/spool "
            "--lock-path=/h/instances/recovered/lock archive-push %p");
}

TEST(RecoveryTimeTest, FormatsForPgBackRestWithMicroseconds) {
  EXPECT_EQ(FormatRecoveryTime(1795653489052465), "2026-11-26 00:38:09.052465+00");
}

TEST(Rfc3339Test, ParsesUtcFractionsAndOffsets) {
  EXPECT_EQ(*ParseRfc3339("2025-12-28T10:00:00Z"), int64_t{1766916000} * 1000000);
  EXPECT_EQ(*ParseRfc3339("2025-12-28T10:00:00.25Z"), int64_t{1766916000} * 1000000 + 250000);
  EXPECT_EQ(*ParseRfc3339("2025-12-28T11:30:00+01:30"), int64_t{1766916000} * 1000000);
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("2026-11-26T00:38:19.052465Z")),
            "2026-11-26T00:38:19.052465Z");
}

TEST(Rfc3339Test, RejectsWhatIsNotATime) {
  for (const char* bad : {"yesterday", "2025-12-28", "2025-12-28T10:00:00", "2025-13-28T10:00:00Z",
                          "2025-12-28T10:00:00.Z", "2025-12-28T10:00:00+0100"}) {
    auto r = ParseRfc3339(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RestorableWindowTest, SpansFromTheOldestBackupEndToTheNewestArchive) {
  BackupCatalog catalog;
  EXPECT_TRUE(ComputeWindow(catalog, 0).empty);
  catalog.backups.push_back(BackupRecord{.id = "a", .stop_unix = 100});
  catalog.backups.push_back(BackupRecord{.id = "b", .stop_unix = 200});
  RestorableWindow w = ComputeWindow(catalog, 0);
  EXPECT_FALSE(w.empty);
  EXPECT_EQ(w.earliest_us, 101 * 1000000);  // stop times are whole seconds: round up
  EXPECT_EQ(w.latest_us, 201 * 1000000);
  EXPECT_EQ(ComputeWindow(catalog, 500 * int64_t{1000000}).latest_us, 500 * 1000000);
}

}  // namespace
}  // namespace auri::dr
