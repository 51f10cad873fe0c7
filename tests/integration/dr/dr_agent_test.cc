// The dr-agent role as `auri up` runs it, with a short schedule ("@every 5s" full backups): it
// takes a backup into both repositories, verifies it in a scratch instance, and its /metrics and
// `auri dr status` show the result — backup age, verified backup, WAL lag per repository, window,
// and a predicted RTO from the rates the verification measured. A manual backup meanwhile waits
// for the DR lock instead of failing. ≈ 40 s.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "stack/net_probe.h"
#include "stack/process.h"
#include "tests/integration/harness.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class DrAgentTest : public ::testing::Test {
 protected:
  void SetUp() override { stack_ = testing::StackHome::Create("auri-agent"); }
  void TearDown() override {
    (void)Auri({"down"}, seconds(120));
    stack_.Remove();
  }

  Result<CommandResult> Auri(std::vector<std::string> args, milliseconds timeout) {
    return RunCommand(stack_.Argv({"backup.full_schedule=@every 5s", "backup.incr_schedule=off",
                                   "dr_agent.status_interval_seconds=1"},
                                  args),
                      "", timeout);
  }

  // The value of one metric line ("name{labels} value"), or nullopt when absent.
  std::optional<double> Metric(const std::string& text, const std::string& series) {
    std::regex line("(^|\n)" + std::regex_replace(series, std::regex(R"([{}\"])"), R"(\$&)") +
                    " ([-+0-9.eE]+)");
    std::smatch m;
    if (!std::regex_search(text, m, line)) return std::nullopt;
    return std::stod(m[2]);
  }

  std::string Scrape() {
    auto r = HttpGet("127.0.0.1", stack_.agent_port, "/metrics", milliseconds(2000));
    return r.ok() && r->status == 200 ? r->body : "";
  }

  static nlohmann::json JsonOf(const std::string& output) {
    size_t start = output.rfind('{', 0) == 0 ? 0 : output.find("\n{");
    size_t end = output.rfind("\n}");
    if (start == std::string::npos || end == std::string::npos) return nullptr;
    if (start > 0) ++start;
    return nlohmann::json::parse(output.substr(start, end + 2 - start), nullptr, false);
  }

  testing::StackHome stack_;
};

TEST_F(DrAgentTest, ScheduledBackupIsTakenVerifiedAndExportedOnMetrics) {
  auto up = Auri({"up"}, seconds(120));
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ASSERT_EQ(up->exit_code, 0) << up->output;
  EXPECT_NE(up->output.find("dr-agent"), std::string::npos) << up->output;

  // Before the first run the agent answers, and says it knows of no backup.
  auto health = HttpGet("127.0.0.1", stack_.agent_port, "/health", milliseconds(2000));
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200) << health->body;

  // Wait for a verified scheduled backup (first run 5 s after the start, then backups of both
  // repositories and their verifications).
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + seconds(150);
  while (std::chrono::steady_clock::now() < deadline) {
    text = Scrape();
    auto verified = Metric(text, "auri_dr_verifications_total{result=\"passed\"}");
    auto rto = Metric(text, "auri_dr_predicted_rto_seconds");
    if (verified && *verified >= 1 && rto && *rto > 0) break;
    std::this_thread::sleep_for(milliseconds(250));
  }
  ASSERT_GE(Metric(text, "auri_dr_verifications_total{result=\"passed\"}").value_or(0), 1) << text;
  EXPECT_EQ(Metric(text, "auri_dr_verifications_total{result=\"failed\"}").value_or(0), 0) << text;
  EXPECT_GE(
      Metric(text, "auri_dr_scheduled_backups_total{type=\"full\",result=\"ok\"}").value_or(0),
      2)
      << text;  // one per repository
  EXPECT_GE(Metric(text, "auri_dr_backups").value_or(-1), 2) << text;
  double age = Metric(text, "auri_dr_last_backup_age_seconds").value_or(-1);
  EXPECT_GE(age, 0) << text;
  EXPECT_LT(age, 120) << text;
  EXPECT_GE(Metric(text, "auri_dr_last_verified_backup_age_seconds").value_or(-1), 0) << text;
  EXPECT_GT(Metric(text, "auri_dr_restore_rate_bytes_per_second").value_or(-1), 0) << text;
  EXPECT_GT(Metric(text, "auri_dr_replay_rate_bytes_per_second").value_or(-1), 0) << text;
  EXPECT_GT(Metric(text, "auri_dr_predicted_rto_seconds").value_or(-1), 0) << text;
  EXPECT_GT(Metric(text, "auri_dr_restorable_window_latest_timestamp_seconds").value_or(-1), 0)
      << text;
  for (const char* repo : {"1", "2"}) {
    std::string series = std::string("auri_dr_wal_archive_lag_bytes{repo=\"") + repo + "\"}";
    EXPECT_GE(Metric(text, series).value_or(-1), 0) << series << "\n" << text;
  }

  // `auri dr status` shows the same: the verified backup, and a predicted RTO.
  auto status = Auri({"dr", "status", "--json"}, seconds(60));
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->exit_code, 0) << status->output;
  nlohmann::json doc = JsonOf(status->output);
  ASSERT_TRUE(doc.is_object()) << status->output;
  EXPECT_FALSE(doc.value("last_verified_backup", "").empty()) << status->output;
  EXPECT_GT(doc.value("predicted_rto_seconds", -1.0), 0) << status->output;
  EXPECT_EQ(doc["repositories"].size(), 2u) << status->output;
  auto list = Auri({"backup", "list"}, seconds(60));
  ASSERT_TRUE(list.ok());
  EXPECT_NE(list->output.find("scheduled"), std::string::npos) << list->output;
  EXPECT_NE(list->output.find("passed"), std::string::npos) << list->output;

  // A manual backup while the agent keeps its schedule: never overlaps (waits for the lock if the
  // agent holds it) and succeeds.
  auto manual = Auri({"backup", "create", "--repo", "1", "--label", "manual"}, seconds(300));
  ASSERT_TRUE(manual.ok());
  EXPECT_EQ(manual->exit_code, 0) << manual->output;
}

}  // namespace
}  // namespace auri
