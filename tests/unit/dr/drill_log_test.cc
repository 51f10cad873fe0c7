// The drill log: records round-trip through their JSON line, appends accumulate (a torn line is
// skipped, not fatal), and the seed's tables render from the records.
#include "dr/drill/drill_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace auri::dr {
namespace {

DrillRecord Record(const std::string& drill, const std::string& started, bool passed) {
  DrillRecord r;
  r.id = "20261126T043140Z-" + drill + "-a1b2c3";
  r.drill = drill;
  r.started_at = started;
  r.finished_at = started;
  r.target = "throwaway";
  r.passed = passed;
  r.rto_seconds = 8.49;
  r.rpo_seconds = 2.5;
  r.heartbeats_acknowledged = 93;
  r.acknowledged_lost = 25;
  r.criteria = {{"integrity", true, "5 checks passed"}, {"rpo", passed, "2.50 s | ok"}};
  r.measurements_json = R"({"restore_seconds":2.47,"backup_id":"20261126-043333F"})";
  r.notes = "restore 2.47 s";
  r.tester = "root@vm";
  r.version = "0.1.0";
  return r;
}

class TempRepo : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/auri-drill-log-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)!std::system(cmd.c_str());
  }
  std::string dir_;
};

TEST(DrillRecordJson, RoundTripsEveryField) {
  DrillRecord r = Record("pitr", "2026-11-26T04:32:53.000000Z", true);
  r.error = "x";
  auto back = DrillRecordFromJson(DrillRecordToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->drill, "pitr");
  EXPECT_TRUE(back->passed);
  EXPECT_DOUBLE_EQ(*back->rto_seconds, 8.49);
  EXPECT_DOUBLE_EQ(*back->rpo_seconds, 2.5);
  EXPECT_EQ(back->acknowledged_lost, 25);
  ASSERT_EQ(back->criteria.size(), 2u);
  EXPECT_EQ(back->criteria[1].detail, "2.50 s | ok");
  EXPECT_NE(back->measurements_json.find("20261126-043333F"), std::string::npos);
  EXPECT_EQ(back->error, "x");
  EXPECT_EQ(DrillRecordToJson(r).find('\n'), std::string::npos) << "one record, one line";
}

TEST(DrillRecordJson, MissingRtoStaysMissing) {
  DrillRecord r = Record("pitr", "2026-11-26T04:32:53Z", false);
  r.rto_seconds.reset();
  auto back = DrillRecordFromJson(DrillRecordToJson(r));
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->rto_seconds.has_value());
}

TEST(DrillRecordJson, RejectsLinesThatAreNotDrillRecords) {
  EXPECT_FALSE(DrillRecordFromJson("{\"kind\":\"auri-manifest\"}").ok());
  EXPECT_FALSE(DrillRecordFromJson("{\"kind\":\"auri-dr").ok());
}

TEST_F(TempRepo, AppendsAccumulateAndATornLineIsSkipped) {
  ASSERT_TRUE(
      AppendDrillRecord(dir_, Record("snapshot-restore", "2026-11-26T04:31:40Z", true)).ok());
  ASSERT_TRUE(AppendDrillRecord(dir_, Record("pitr", "2026-11-26T04:32:53Z", true)).ok());
  // A crash mid-write leaves a partial last line.
  std::ofstream(DrillLogPath(dir_), std::ios::app) << "{\"kind\":\"auri-dr";
  int skipped = 0;
  auto records = ReadDrillLog(dir_, &skipped);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].drill, "snapshot-restore");
  EXPECT_EQ((*records)[1].drill, "pitr");
  EXPECT_EQ(skipped, 1);
}

TEST_F(TempRepo, MissingLogIsEmpty) {
  int skipped = -1;
  auto records = ReadDrillLog(dir_ + "/nowhere", &skipped);
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty());
  EXPECT_EQ(skipped, 0);
}

TEST(ResultsLog, ListsNewestFirstWithRtoRpoAndEscapedNotes) {
  std::vector<DrillRecord> records = {Record("snapshot-restore", "2026-11-20T10:00:00Z", true),
                                      Record("pitr", "2026-11-26T04:32:53Z", false)};
  records[1].notes = "failed markers: present 1|2|3";
  std::string table = RenderResultsLog(records);
  EXPECT_NE(table.find("| Date | Test | Result | RTO | RPO | Notes | Tester |"), std::string::npos);
  size_t pitr = table.find(
      "| 2026-11-26 04:32 | pitr | FAIL | 8.49 s | 2.50 s | failed markers: "
      "present 1/2/3 | root@vm |");
  size_t snap = table.find("| 2026-11-20 10:00 | snapshot-restore | PASS |");
  ASSERT_NE(pitr, std::string::npos) << table;
  ASSERT_NE(snap, std::string::npos) << table;
  EXPECT_LT(pitr, snap) << "newest first";
}

TEST(RegularTesting, ShowsLastRunPerKindNeverAndOverdue) {
  std::vector<DrillRecord> records = {Record("snapshot-restore", "2026-01-01T00:00:00Z", false),
                                      Record("snapshot-restore", "2026-11-20T10:00:00Z", true),
                                      Record("pitr", "2026-01-01T00:00:00Z", true)};
  int64_t now = 1795651200;  // 2026-11-26T00:00:00Z
  std::string table = RenderRegularTesting(records, now);
  EXPECT_NE(table.find("(`snapshot-restore`) | Quarterly (CI: every change) | 2026-11-20 10:00 | "
                       "PASS |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("(`pitr`) | Quarterly (CI: every change) | 2026-01-01 00:00 (overdue) | "
                       "PASS |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("(`secret-rotation`) | Monthly | never | - |"), std::string::npos) << table;
  EXPECT_NE(table.find("(`full`) | Annually | never | - |"), std::string::npos) << table;
}

TEST(LastDrillPerKind, NewestRunOfEveryKindWithOverdueAndNever) {
  std::vector<DrillRecord> records = {Record("pitr", "2026-11-20T10:00:00Z", true),
                                      Record("snapshot-restore", "2026-11-21T10:00:00Z", true),
                                      Record("snapshot-restore", "2026-11-22T10:00:00Z", false),
                                      Record("snapshot-restore", "2026-01-01T00:00:00Z", true)};
  int64_t now = 1795651200;  // 2026-11-26T00:00:00Z
  auto drills = LastDrillPerKind(records, now);
  ASSERT_EQ(drills.size(), 6u);
  EXPECT_EQ(drills[0].drill, "snapshot-restore");
  ASSERT_TRUE(drills[0].last.has_value());
  EXPECT_EQ(drills[0].last->started_at, "2026-11-22T10:00:00Z");  // newest, not last written
  EXPECT_FALSE(drills[0].last->passed);
  EXPECT_FALSE(drills[0].overdue);
  EXPECT_EQ(drills[1].drill, "pitr");
  EXPECT_TRUE(drills[1].last.has_value());
  EXPECT_FALSE(drills[1].overdue);
  EXPECT_EQ(drills[2].drill, "failover");
  EXPECT_FALSE(drills[2].last.has_value());
  EXPECT_TRUE(drills[2].overdue) << "a kind that never ran is overdue";
  // 92 days after the pitr run it is overdue.
  EXPECT_TRUE(LastDrillPerKind(records, now + 92 * 86400)[1].overdue);
  EXPECT_EQ(DrillTimeUnix("2026-11-26T00:00:00.123456Z"), now);
}

TEST(DrillPage, HasVerdictCriteriaAndMeasurementsAndADatedFileName) {
  DrillRecord r = Record("pitr", "2026-11-26T04:32:53Z", true);
  std::string page = RenderDrillPage(r);
  EXPECT_EQ(page.rfind("# DR test: pitr — PASS", 0), 0u) << page;
  EXPECT_NE(page.find("| rpo | pass | 2.50 s / ok |"), std::string::npos) << page;
  EXPECT_NE(page.find("| restore_seconds | 2.470 |"), std::string::npos) << page;
  EXPECT_EQ(DrillPageFileName(r), "20261126-pitr-a1b2c3.md");
}

}  // namespace
}  // namespace auri::dr
