// The embedded stack as a user runs it: `auri up`, `auri status`, `auri down`, as processes, on
// free ports under a temporary home. Uses its own PostgreSQL/Redis (started by `auri up`), not the
// harness's shared ones.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "stack/net_probe.h"
#include "stack/postgres_server.h"
#include "stack/process.h"
#include "stack/stack_state.h"
#include "tests/integration/harness.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class StackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/auri-stack-XXXXXX";
    home_ = ::mkdtemp(tmpl);
    ::chmod(home_.c_str(), 0755);
    api_port_ = testing::FreePort();
    pg_port_ = testing::FreePort();
    metrics_port_ = testing::FreePort();
    redis_port_ = testing::FreePort();
    processor_port_ = testing::FreePort();
    agent_port_ = testing::FreePort();
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
                                     "api.port=" + std::to_string(api_port_),
                                     "--set",
                                     "postgres.port=" + std::to_string(pg_port_),
                                     "--set",
                                     "redis.port=" + std::to_string(redis_port_),
                                     "--set",
                                     "processor.metrics_port=" + std::to_string(processor_port_),
                                     "--set",
                                     "delivery.metrics_port=" + std::to_string(metrics_port_),
                                     "--set",
                                     "dr_agent.metrics_port=" + std::to_string(agent_port_),
                                     "--set",
                                     "backup.full_schedule=off",
                                     "--set",
                                     "backup.incr_schedule=off"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", timeout);
  }

  static StackState State() {
    auto s = ReadStackState(home_ + "/run/stack.json");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : StackState{};
  }

  static pid_t PidOf(const std::string& name) {
    for (const auto& c : State().components) {
      if (c.name == name) return c.pid;
    }
    return -1;
  }

  static nlohmann::json Health() {
    auto r = HttpGet("127.0.0.1", api_port_, "/health", milliseconds(2000));
    if (!r.ok()) return {};
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    j["http_status"] = r->status;
    return j;
  }

  static void EnsureUp() {
    auto r = Auri({"up"}, seconds(120));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->exit_code, 0) << r->output;
  }

  static std::string home_;
  static int api_port_, pg_port_, redis_port_, processor_port_, metrics_port_, agent_port_;
};

std::string StackTest::home_;
int StackTest::api_port_ = 0;
int StackTest::pg_port_ = 0;
int StackTest::redis_port_ = 0;
int StackTest::processor_port_ = 0;
int StackTest::metrics_port_ = 0;
int StackTest::agent_port_ = 0;

TEST_F(StackTest, UpPrintsTheUrlAndACurlAndReportsHealthy) {
  auto r = Auri({"up"}, seconds(120));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->exit_code, 0) << r->output;
  std::string url = "http://127.0.0.1:" + std::to_string(api_port_);
  EXPECT_NE(r->output.find("URL: " + url), std::string::npos) << r->output;
  EXPECT_NE(r->output.find("curl -s " + url + "/health"), std::string::npos) << r->output;
  auto health = Health();
  EXPECT_EQ(health["http_status"], 200);
  EXPECT_EQ(health["status"], "healthy");
  EXPECT_EQ(health["database"], "connected");
  EXPECT_EQ(health["redis"], "connected");
}

TEST_F(StackTest, SecondUpSaysAlreadyRunning) {
  EnsureUp();
  auto r = Auri({"up"}, seconds(30));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_NE(r->output.find("already running"), std::string::npos) << r->output;
}

TEST_F(StackTest, StatusJsonListsEveryComponentHealthy) {
  EnsureUp();
  auto r = Auri({"status", "--json"}, seconds(30));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->output;
  auto j = nlohmann::json::parse(r->output);
  std::vector<std::string> names;
  for (const auto& c : j["components"]) {
    names.push_back(c["name"]);
    EXPECT_TRUE(c["healthy"].get<bool>()) << c.dump();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"postgres", "redis", "api-gateway", "event-processor",
                                             "action-workers", "dr-agent"}));
}

TEST_F(StackTest, KilledComponentIsRestartedBySupervisor) {
  EnsureUp();
  pid_t redis = PidOf("redis");
  ASSERT_GT(redis, 0);
  ASSERT_EQ(::kill(redis, SIGKILL), 0);
  // Bounded poll: the supervisor restarts it after a 0.5 s backoff.
  bool restarted = false;
  for (int i = 0; i < 100 && !restarted; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    for (const auto& c : State().components) {
      if (c.name == "redis" && c.restarts >= 1 && c.pid != redis && c.pid > 0) restarted = true;
    }
  }
  ASSERT_TRUE(restarted) << StackStateToJson(State());
  EXPECT_NE(State().components[1].last_exit.find("SIGKILL"), std::string::npos);
  std::string status;
  for (int i = 0; i < 50 && status != "healthy"; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    status = Health().value("status", "");
  }
  EXPECT_EQ(status, "healthy");
}

TEST_F(StackTest, DownLeavesNoProcessAndUpReusesTheData) {
  EnsureUp();
  std::string dsn = "host=127.0.0.1 port=" + std::to_string(pg_port_) +
                    " user=postgres dbname=auri connect_timeout=5";
  ASSERT_TRUE(
      ExecuteAdminSql(dsn, "CREATE TABLE reuse_marker(x int); INSERT INTO reuse_marker VALUES (7)")
          .ok());
  StackState before = State();

  auto down = Auri({"down"}, seconds(120));
  ASSERT_TRUE(down.ok());
  ASSERT_EQ(down->exit_code, 0) << down->output;
  EXPECT_FALSE(ProcessAlive(before.supervisor_pid));
  for (const auto& c : before.components) {
    EXPECT_FALSE(ProcessAlive(c.pid)) << c.name << " pid " << c.pid << " survived auri down";
  }
  auto status = Auri({"status"}, seconds(30));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 1);
  EXPECT_NE(status->output.find("not running"), std::string::npos);

  EnsureUp();
  EXPECT_TRUE(ExecuteAdminSql(dsn, "SELECT 1 FROM reuse_marker WHERE x = 7").ok());
}

TEST_F(StackTest, PortInUseFailsWithAClearMessageAndExitCode3) {
  // Another stack on a fresh home whose PostgreSQL port is taken by ours.
  char tmpl[] = "/tmp/auri-stack2-XXXXXX";
  std::string other_home = ::mkdtemp(tmpl);
  ::chmod(other_home.c_str(), 0755);
  EnsureUp();
  auto r = RunCommand({testing::AuriBinary(), "--set", "general.home=" + other_home, "--set",
                       "api.port=" + std::to_string(testing::FreePort()), "--set",
                       "postgres.port=" + std::to_string(pg_port_), "--set",
                       "redis.port=" + std::to_string(testing::FreePort()), "--set",
                       "supervisor.start_timeout_seconds=30", "up"},
                      "", seconds(90));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 3) << r->output;
  EXPECT_NE(r->output.find("postgres"), std::string::npos) << r->output;
  EXPECT_NE(r->output.find("hint:"), std::string::npos) << r->output;
  auto st = ReadStackState(other_home + "/run/stack.json");
  if (st.ok()) {
    EXPECT_TRUE(WaitUntilGone(st->supervisor_pid, seconds(10)).ok());
    for (const auto& c : st->components) {
      EXPECT_TRUE(WaitUntilGone(c.pid, seconds(10)).ok()) << c.name;
    }
  }
  std::string cmd = "rm -rf '" + other_home + "'";
  (void)!std::system(cmd.c_str());
}

}  // namespace
}  // namespace auri
