// `auri verify` as an operator runs it: a real `auri up` deployment (PostgreSQL, Redis, gateway,
// event-processor, action-workers) under a temporary home on free ports, checked with the real
// binary. Issue 7's "done when": every row passes on a healthy deployment; a stopped
// action-workers process fails exactly its row (exit 1) with a hint saying what to look at; a
// manifest that does not match fails the triggers row.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "dr/checklist/webhook_receiver.h"
#include "stack/process.h"
#include "stack/stack_state.h"
#include "tests/integration/delivery/delivery_test_util.h"
#include "tests/integration/harness.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::vector<std::string> kRows = {"api_health",    "database",         "authentication",
                                        "triggers",      "event_processing", "action_workers",
                                        "rate_limiting", "monitoring"};

class VerifyCommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/auri-verify-XXXXXX";
    home_ = ::mkdtemp(tmpl);
    ::chmod(home_.c_str(), 0755);
    ports_ = {testing::FreePort(), testing::FreePort(), testing::FreePort(), testing::FreePort(),
              testing::FreePort()};
    auto up = Auri({"up"}, seconds(120));
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    ASSERT_EQ(up->exit_code, 0) << up->output;
  }

  static void TearDownTestSuite() {
    (void)Auri({"down"}, seconds(120));
    std::string cmd = "rm -rf '" + home_ + "'";
    (void)!std::system(cmd.c_str());
  }

  static Result<CommandResult> Auri(std::vector<std::string> args, milliseconds timeout) {
    std::vector<std::string> argv = {testing::AuriBinary(),
                                     "--set",
                                     "general.home=" + home_,
                                     "--set",
                                     "api.port=" + std::to_string(ports_[0]),
                                     "--set",
                                     "postgres.port=" + std::to_string(ports_[1]),
                                     "--set",
                                     "redis.port=" + std::to_string(ports_[2]),
                                     "--set",
                                     "processor.metrics_port=" + std::to_string(ports_[3]),
                                     "--set",
                                     "delivery.metrics_port=" + std::to_string(ports_[4]),
                                     "--set",
                                     "backup.enabled=0"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", timeout);
  }

  // Runs `auri verify --json [extra]` and returns its exit code and document (the document is the
  // last thing on stdout; warnings, if any, come before it on stderr).
  static std::pair<int, nlohmann::json> Verify(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Auri(args, seconds(90));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {-1, nullptr};
    size_t start = r->output.find("{\n");
    nlohmann::json doc = start == std::string::npos
                             ? nlohmann::json()
                             : nlohmann::json::parse(r->output.substr(start), nullptr, false);
    EXPECT_TRUE(doc.is_object()) << r->output;
    return {r->exit_code, doc};
  }

  static std::vector<std::string> FailedRows(const nlohmann::json& doc) {
    std::vector<std::string> failed;
    for (const auto& row : doc["checks"]) {
      if (!row["passed"].get<bool>()) failed.push_back(row["check"]);
    }
    return failed;
  }

  static nlohmann::json Row(const nlohmann::json& doc, const std::string& name) {
    for (const auto& row : doc["checks"]) {
      if (row["check"] == name) return row;
    }
    return nullptr;
  }

  static pid_t PidOf(const std::string& component) {
    auto r = Auri({"status", "--json"}, seconds(30));
    if (!r.ok()) return -1;
    auto doc = nlohmann::json::parse(r->output, nullptr, false);
    if (!doc.is_object()) return -1;
    for (const auto& c : doc["components"]) {
      if (c["name"] == component) return c["pid"].get<pid_t>();
    }
    return -1;
  }

  static inline std::string home_;
  static inline std::vector<int> ports_;
};

TEST_F(VerifyCommandTest, EveryRowPassesOnAHealthyDeployment) {
  // A user's trigger for every reputation event on any chain: the probe event must not set it
  // off (no job, no webhook to the user's destination), nor leave jobs behind.
  const std::string dsn = "host=127.0.0.1 port=" + std::to_string(ports_[1]) +
                          " user=postgres dbname=auri connect_timeout=5";
  dr::WebhookReceiver user_receiver;
  ASSERT_TRUE(user_receiver.Start().ok());
  std::string org = testing::CreateOrganizationWithOwner(dsn);
  std::string user_trigger = testing::QueryValue(
      dsn, "WITH t AS (INSERT INTO triggers (organization_id, name, registry) VALUES ('" + org +
               "', 'every reputation event', 'reputation') RETURNING id), a AS (INSERT INTO "
               "trigger_actions (trigger_id, action_type, config) SELECT id, 'webhook', "
               "'{\"url\": \"http://127.0.0.1:" +
               std::to_string(user_receiver.port()) + "/user-hook\"}' FROM t) SELECT id FROM t");
  auto [code, doc] = Verify();
  EXPECT_EQ(code, 0) << doc.dump(2);
  EXPECT_EQ(doc["passed"], true);
  std::vector<std::string> names;
  for (const auto& row : doc["checks"]) {
    names.push_back(row["check"]);
    EXPECT_TRUE(row["passed"].get<bool>()) << row.dump();
    EXPECT_GE(row["seconds"].get<double>(), 0.0);
  }
  EXPECT_EQ(names, kRows);
  EXPECT_NE(Row(doc, "action_workers")["detail"].get<std::string>().find("probe webhook received"),
            std::string::npos)
      << doc.dump(2);
  // The probe's own webhook has arrived; a job for the user's trigger would have been delivered
  // alongside it. Give it a moment anyway: this checks that nothing comes.
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_TRUE(user_receiver.Since(0).empty()) << "the probe event reached a user's webhook";
  EXPECT_EQ(testing::QueryValue(
                dsn, "SELECT count(*) FROM action_jobs WHERE trigger_id = '" + user_trigger + "'"),
            "0");
  EXPECT_EQ(testing::QueryValue(dsn,
                                "SELECT count(*) FROM action_jobs j WHERE NOT EXISTS "
                                "(SELECT 1 FROM event_ids e WHERE e.id = j.event_id)"),
            "0");
}

// Stops (SIGSTOP) a process for the life of the object and resumes it afterwards, whatever the
// test's outcome, so a failed assertion never leaves the deployment frozen for the next test.
class Stopped {
 public:
  explicit Stopped(pid_t pid) : pid_(pid) { ok_ = pid_ > 0 && ::kill(pid_, SIGSTOP) == 0; }
  ~Stopped() {
    if (ok_) ::kill(pid_, SIGCONT);
  }
  bool ok() const { return ok_; }

 private:
  pid_t pid_;
  bool ok_ = false;
};

TEST_F(VerifyCommandTest, StoppedActionWorkersFailExactlyTheirRowWithAHint) {
  pid_t workers = PidOf("action-workers");
  ASSERT_GT(workers, 0);
  {
    Stopped frozen(workers);
    ASSERT_TRUE(frozen.ok());
    auto [code, doc] = Verify();
    EXPECT_EQ(code, 1) << doc.dump(2);
    EXPECT_EQ(doc["passed"], false);
    EXPECT_EQ(FailedRows(doc), std::vector<std::string>{"action_workers"}) << doc.dump(2);
    nlohmann::json row = Row(doc, "action_workers");
    EXPECT_NE(row["detail"].get<std::string>().find("did not arrive"), std::string::npos)
        << row.dump();
    EXPECT_NE(row.value("hint", "").find("action-workers"), std::string::npos) << row.dump();
    EXPECT_NE(row.value("hint", "").find("auri status"), std::string::npos) << row.dump();
  }
  // Resumed: the same deployment verifies clean again (the stopped row was the workers, nothing
  // else was harmed).
  auto [code, doc] = Verify();
  EXPECT_EQ(code, 0) << doc.dump(2);
}

TEST_F(VerifyCommandTest, MatchingManifestPassesAndAMismatchFailsTheTriggersRow) {
  std::string file = home_ + "/manifest.json";
  auto created = Auri({"manifest", "create", "--out", file}, seconds(30));
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->exit_code, 0) << created->output;

  auto [same_code, same] = Verify({"--manifest", file});
  EXPECT_EQ(same_code, 0) << same.dump(2);
  EXPECT_NE(Row(same, "triggers")["detail"].get<std::string>().find("manifest matches"),
            std::string::npos)
      << same.dump(2);

  // The manifest says there was one trigger more than there is: a restore lost one.
  nlohmann::json manifest;
  {
    std::ifstream in(file);
    manifest = nlohmann::json::parse(in);
  }
  int64_t triggers = manifest["tables"]["triggers"]["rows"].get<int64_t>();
  manifest["tables"]["triggers"]["rows"] = triggers + 1;
  std::string other = home_ + "/manifest-more-triggers.json";
  std::ofstream(other) << manifest.dump(2);

  auto [code, doc] = Verify({"--manifest", other});
  EXPECT_EQ(code, 1) << doc.dump(2);
  EXPECT_EQ(FailedRows(doc), std::vector<std::string>{"triggers"}) << doc.dump(2);
  nlohmann::json row = Row(doc, "triggers");
  EXPECT_NE(row["detail"].get<std::string>().find("triggers: rows " + std::to_string(triggers) +
                                                  " vs " + std::to_string(triggers + 1)),
            std::string::npos)
      << row.dump();
  EXPECT_NE(row.value("hint", "").find("differs from the manifest"), std::string::npos)
      << row.dump();
}

}  // namespace
}  // namespace auri
