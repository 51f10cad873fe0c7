// Restores that change the running deployment's database, as an operator runs them against a real
// `auri up` stack: `auri restore --in-place --force` and `auri restore --as NAME --switch` (spec
// 40-dr.md, "Restore and point-in-time recovery"; issue 6). While they run, a load loop reads
// through the API: every answer must be 2xx, or 503 with Retry-After — never a 500, never a
// dropped connection. Data is created and deleted through the API, like a user would.
//
// One stack serves both tests, in order: the in-place restore first (on the original cluster),
// then the switch (onto a restored instance, which then is the stack's database). ≈ 60 s.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/fs.h"
#include "dr/checklist/http_call.h"
#include "stack/postgres_server.h"
#include "stack/process.h"
#include "stack/stack_state.h"
#include "tests/integration/harness.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

// Reads through the API until stopped, and tallies what came back.
class LoadLoop {
 public:
  LoadLoop(std::string url, std::vector<std::string> headers)
      : url_(std::move(url)), headers_(std::move(headers)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~LoadLoop() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Statuses seen (0 = no HTTP answer), 503s without Retry-After, 2xx after `since`.
  std::map<long, int> statuses() const {
    std::lock_guard<std::mutex> lock(mu_);
    return statuses_;
  }
  int unavailable_without_retry_after() const { return no_retry_after_.load(); }
  int successes() const { return successes_.load(); }
  std::string first_failure() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_failure_;
  }

 private:
  void Run() {
    while (!stop_) {
      auto r = dr::HttpCall("GET", url_, headers_, "", seconds(10));
      std::lock_guard<std::mutex> lock(mu_);
      long status = r.ok() ? r->status : 0;
      ++statuses_[status];
      if (status >= 200 && status < 300) ++successes_;
      if (status == 503 && r->Header("retry-after").empty()) ++no_retry_after_;
      bool bad = status == 0 || status >= 500 && status != 503;
      if (bad && first_failure_.empty()) {
        first_failure_ = r.ok() ? std::to_string(status) + " " + r->body : r.status().ToString();
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  const std::string url_;
  const std::vector<std::string> headers_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<long, int> statuses_;
  std::atomic<int> no_retry_after_{0};
  std::atomic<int> successes_{0};
  std::string first_failure_;
  std::thread thread_;
};

class RestoreSwitchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = testing::StackHome::Create("auri-switch");
    auto up = Auri({"up"}, seconds(120));
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    ASSERT_EQ(up->exit_code, 0) << up->output;

    // A user, as the story has one: registered through the API.
    nlohmann::json reg = {{"username", "dr-owner"},
                          {"email", "dr-owner@example.com"},
                          {"password", "Corr3ct-Horse-Battery!"}};
    auto r = dr::HttpCall("POST", Url("/api/v1/auth/register"), {}, reg.dump(), seconds(10));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 201) << r->body;
    token_ = nlohmann::json::parse(r->body)["token"];
    auto me = Api("GET", "/api/v1/auth/me");
    ASSERT_EQ(me.status, 200) << me.body;
    org_ = me.json["organizations"][0]["id"];
  }

  static void TearDownTestSuite() {
    (void)Auri({"down"}, seconds(120));
    for (const auto& entry : fs::directory_iterator(stack_.home + "/instances", ec_)) {
      (void)Auri({"instance", "remove", entry.path().filename().string()}, seconds(60));
    }
    stack_.Remove();
  }

  // `auri` with the stack's settings, then `args`.
  static std::vector<std::string> AuriArgv(const std::vector<std::string>& args) {
    return stack_.Argv(
        {"backup.full_schedule=off", "backup.incr_schedule=off", "auth.argon2=minimum"}, args);
  }
  static Result<CommandResult> Auri(std::vector<std::string> args, milliseconds timeout) {
    return RunCommand(AuriArgv(args), "", timeout);
  }

  static std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(stack_.api_port) + path;
  }
  static std::vector<std::string> AuthHeaders() {
    return {"Authorization: Bearer " + token_, "X-Organization-ID: " + org_};
  }

  struct Reply {
    long status = 0;
    nlohmann::json json;
    std::string body;
  };
  static Reply Api(const std::string& method, const std::string& path,
                   const std::string& body = "") {
    auto r = dr::HttpCall(method, Url(path), AuthHeaders(), body, seconds(10));
    if (!r.ok()) return {0, nullptr, r.status().ToString()};
    return {r->status, nlohmann::json::parse(r->body, nullptr, false), r->body};
  }

  // Creates a trigger through the API and returns its id.
  static std::string CreateTrigger(const std::string& name) {
    nlohmann::json t = {
        {"name", name},
        {"registry", "reputation"},
        {"chain_id", 31337},
        {"conditions", {{{"condition_type", "agent_id_equals"}, {"value", "424242"}}}},
        {"actions",
         {{{"action_type", "webhook"}, {"config", {{"url", "http://127.0.0.1:9/unused"}}}}}}};
    Reply r = Api("POST", "/api/v1/triggers", t.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? r.json["data"].value("id", std::string()) : "";
  }

  // The last JSON document of a command's output (progress lines go to stderr, merged before it).
  static nlohmann::json JsonOf(const std::string& output) {
    size_t start = output.rfind('{', 0) == 0 ? 0 : output.find("\n{");
    size_t end = output.rfind("\n}");
    if (start == std::string::npos || end == std::string::npos) return nullptr;
    if (start > 0) ++start;
    return nlohmann::json::parse(output.substr(start, end + 2 - start), nullptr, false);
  }

  static std::string AdminDsn(int port) {
    return "host=127.0.0.1 port=" + std::to_string(port) +
           " user=postgres dbname=auri connect_timeout=5";
  }
  static std::string Scalar(const std::string& dsn, const std::string& sql) {
    auto rows = QueryAdminSql(dsn, sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() && !rows->empty() ? (*rows)[0][0] : "";
  }
  // The database server's clock right now, RFC 3339 (a restore target after what was committed).
  static std::string ServerNow(int port) {
    return Scalar(AdminDsn(port),
                  "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                  "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  }

  static ComponentState Component(const std::string& name) {
    auto s = ReadStackState(stack_.home + "/run/stack.json");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) {
      for (const auto& c : s->components) {
        if (c.name == name) return c;
      }
    }
    return {};
  }

  // Waits (bounded) until the API answers a read with 200 again.
  static bool WaitForApi(milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Api("GET", "/api/v1/triggers?limit=1").status == 200) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  static void ExpectNoFailedRequests(const LoadLoop& load) {
    auto statuses = load.statuses();
    std::string seen;
    for (const auto& [status, n] : statuses) {
      seen += std::to_string(status) + "×" + std::to_string(n) + " ";
      EXPECT_TRUE((status >= 200 && status < 300) || status == 503)
          << "HTTP " << status << " seen " << n << " times; first: " << load.first_failure();
    }
    EXPECT_EQ(load.unavailable_without_retry_after(), 0) << seen;
    EXPECT_GT(load.successes(), 10) << seen;
    std::cerr << "[ load    ] " << seen << "\n";
  }

  static inline std::string token_, org_;
  static inline testing::StackHome stack_;
  static inline std::error_code ec_;
};

TEST_F(RestoreSwitchTest, InPlaceRestoreWithForceRestoresTheTargetWhileTheApiAnswers2xxOr503) {
  std::string kept = CreateTrigger("kept by the in-place restore");
  auto backup = Auri({"backup", "create", "--label", "before-in-place"}, seconds(300));
  ASSERT_TRUE(backup.ok());
  ASSERT_EQ(backup->exit_code, 0) << backup->output;
  std::string target = ServerNow(stack_.pg_port);
  ASSERT_TRUE(ExecuteAdminSql(AdminDsn(stack_.pg_port), "SELECT pg_switch_wal()").ok());
  std::string lost = CreateTrigger("written after the target");
  ASSERT_FALSE(kept.empty());
  ASSERT_FALSE(lost.empty());

  // Without --force it is refused, and nothing is touched.
  auto refused = Auri({"restore", "--in-place", "--time", target}, seconds(60));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->exit_code, 4) << refused->output;
  EXPECT_EQ(Api("GET", "/api/v1/triggers/" + lost).status, 200);

  LoadLoop load(Url("/api/v1/triggers?limit=5"), AuthHeaders());
  auto r = Auri({"restore", "--in-place", "--force", "--time", target, "--json"}, seconds(300));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0) << r->output;
  EXPECT_TRUE(WaitForApi(seconds(30)));
  std::this_thread::sleep_for(milliseconds(300));  // a few reads after the restore, too
  load.Stop();
  ExpectNoFailedRequests(load);

  nlohmann::json doc = JsonOf(r->output);
  ASSERT_TRUE(doc.is_object()) << r->output;
  EXPECT_EQ(doc["supervised"], true);
  EXPECT_EQ(doc["integrity"]["passed"], true) << r->output;
  // The replaced data directory is kept, beside the new one.
  std::string aside = doc.value("moved_aside", "");
  EXPECT_NE(aside.find(stack_.home + "/postgres/data.before-restore-"), std::string::npos) << aside;
  EXPECT_TRUE(fs::exists(aside + "/PG_VERSION")) << aside;

  EXPECT_EQ(Api("GET", "/api/v1/triggers/" + kept).status, 200);
  EXPECT_EQ(Api("GET", "/api/v1/triggers/" + lost).status, 404);
  // Still the stack's PostgreSQL on its port, supervised, and writable.
  ComponentState pg = Component("postgres");
  EXPECT_EQ(pg.port, stack_.pg_port);
  EXPECT_EQ(pg.pid, ReadyPostmasterPid(stack_.home + "/postgres/data"));
  EXPECT_FALSE(CreateTrigger("written after the in-place restore").empty());
}

TEST_F(RestoreSwitchTest, SwitchBringsBackDeletedDataWithoutRestartingServices) {
  // The "new user" story: data, a labelled backup, a mistaken delete, a point-in-time
  // restore into a new instance with --switch — and the data is back, served by the same
  // processes.
  std::string important = CreateTrigger("important");
  ASSERT_FALSE(important.empty());
  auto backup = Auri({"backup", "create", "--label", "pre-migration"}, seconds(300));
  ASSERT_TRUE(backup.ok());
  ASSERT_EQ(backup->exit_code, 0) << backup->output;
  auto list = Auri({"backup", "list"}, seconds(60));
  ASSERT_TRUE(list.ok());
  EXPECT_NE(list->output.find("pre-migration"), std::string::npos) << list->output;

  std::string before_delete = ServerNow(stack_.pg_port);
  Reply deleted = Api("DELETE", "/api/v1/triggers/" + important);
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  ASSERT_EQ(Api("GET", "/api/v1/triggers/" + important).status, 404);

  pid_t gateway = Component("api-gateway").pid;
  pid_t processor = Component("event-processor").pid;
  pid_t workers = Component("action-workers").pid;
  LoadLoop load(Url("/api/v1/triggers?limit=5"), AuthHeaders());
  auto r = Auri({"restore", "--as", "recovered", "--time", before_delete, "--switch", "--json"},
                seconds(300));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0) << r->output;
  std::this_thread::sleep_for(milliseconds(500));  // reads after the switch, too
  load.Stop();
  ExpectNoFailedRequests(load);

  nlohmann::json doc = JsonOf(r->output);
  ASSERT_TRUE(doc.is_object()) << r->output;
  EXPECT_EQ(doc["verify"]["passed"], true) << doc["verify"].dump(2);
  int port = doc["switch"].value("port", 0);
  ASSERT_GT(port, 0) << r->output;
  ASSERT_NE(port, stack_.pg_port);

  // The data is back, served by the same processes (no restart).
  EXPECT_EQ(Api("GET", "/api/v1/triggers/" + important).status, 200);
  EXPECT_EQ(Component("api-gateway").pid, gateway);
  EXPECT_EQ(Component("event-processor").pid, processor);
  EXPECT_EQ(Component("action-workers").pid, workers);

  // Writes land in the restored instance; the old primary is stopped, its data kept.
  std::string written = CreateTrigger("written after the switch");
  ASSERT_FALSE(written.empty());
  EXPECT_EQ(Scalar(AdminDsn(port), "SELECT count(*) FROM triggers WHERE id = '" + written + "'"),
            "1");
  EXPECT_FALSE(PostgresAcceptsConnections("127.0.0.1", stack_.pg_port, 1));
  EXPECT_TRUE(fs::exists(stack_.home + "/postgres/data/PG_VERSION"));

  // The stack's idea of its PostgreSQL is the restored instance.
  ComponentState pg = Component("postgres");
  EXPECT_EQ(pg.port, port);
  EXPECT_EQ(pg.pid, ReadyPostmasterPid(stack_.home + "/instances/recovered/data"));
  auto status = Auri({"status", "--json"}, seconds(30));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 0) << status->output;

  // Its new timeline reaches the repositories (history file first), so it can be restored too.
  std::string timeline = Scalar(AdminDsn(port), "SELECT timeline_id FROM pg_control_checkpoint()");
  char history[32];
  std::snprintf(history, sizeof history, "%08X.history", std::atoi(timeline.c_str()));
  bool archived = false;
  for (auto deadline = std::chrono::steady_clock::now() + seconds(30);
       !archived && std::chrono::steady_clock::now() < deadline;) {
    for (const auto& e :
         fs::recursive_directory_iterator(stack_.home + "/backups/repo1/archive", ec_)) {
      archived = archived || e.path().filename().string().rfind(history, 0) == 0;
    }
    if (!archived) std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_TRUE(archived) << history << " not in repo1";
  // `auri verify` ran during the switch; its probe cleanup leaves the database consistent.
  auto check = Auri({"dr", "check"}, seconds(120));
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->exit_code, 0) << check->output;

  // The active instance cannot be removed; `auri down` stops it, `auri up` brings it back.
  auto remove = Auri({"instance", "remove", "recovered"}, seconds(30));
  ASSERT_TRUE(remove.ok());
  EXPECT_EQ(remove->exit_code, 4) << remove->output;
  auto down = Auri({"down"}, seconds(120));
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->exit_code, 0) << down->output;
  EXPECT_FALSE(fs::exists(stack_.home + "/instances/recovered/data/postmaster.pid"));
  EXPECT_FALSE(PostgresAcceptsConnections("127.0.0.1", port, 1));
  auto up = Auri({"up"}, seconds(120));
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->exit_code, 0) << up->output;
  EXPECT_EQ(Component("postgres").port, port);
  EXPECT_EQ(Api("GET", "/api/v1/triggers/" + important).status, 200);
  EXPECT_EQ(Api("GET", "/api/v1/triggers/" + written).status, 200);

  // Right after a start, a commit still reaches the repositories within archive_timeout (5 s):
  // PostgreSQL's checkpointer would otherwise sleep through the first checkpoint_timeout.
  std::string segment = Scalar(AdminDsn(port), "SELECT pg_walfile_name(pg_current_wal_lsn())");
  ASSERT_FALSE(CreateTrigger("written right after a start").empty());
  auto archived_by = std::chrono::steady_clock::now() + seconds(15);
  std::string last;
  while (std::chrono::steady_clock::now() < archived_by) {
    last = Scalar(AdminDsn(port), "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
    if (last.size() >= 24 && last.substr(8, 16) >= segment.substr(8)) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_TRUE(last.size() >= 24 && last.substr(8, 16) >= segment.substr(8))
      << "segment " << segment << " not archived (last archived: " << last << ")";
}

TEST_F(RestoreSwitchTest, InstanceSwitchFinishesAnInterruptedSwitch) {
  // Runs after SwitchBringsBack…: the stack's database is the instance 'recovered'. An
  // `auri restore --switch` is killed (SIGKILL) as soon as it has pointed the services at the new
  // instance — before or while it drains, records and hands the server to the supervisor.
  // `auri instance switch` must finish the switch from whatever state it left.
  ComponentState current = Component("postgres");
  ASSERT_GT(current.port, 0);
  std::string marker = CreateTrigger("before the second restore");
  ASSERT_FALSE(marker.empty());
  const std::string log = stack_.home + "/interrupted-switch.log";
  std::vector<std::string> argv = AuriArgv({"restore", "--as", "second", "--latest", "--switch"});
  auto pid = Spawn({.argv = argv, .log_file = log});
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + seconds(300);
  while (output.find("database-url now names") == std::string::npos && ProcessAlive(*pid) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
    auto text = ReadFileLimited(log, 1 << 20);
    if (text.ok()) output = *text;
  }
  ASSERT_NE(output.find("database-url now names"), std::string::npos) << output;
  ::kill(*pid, SIGKILL);
  ASSERT_TRUE(WaitForExit(*pid, seconds(30)).ok());
  const std::string data_dir = stack_.home + "/instances/second/data";
  auto meta = ReadFileLimited(stack_.home + "/instances/second/instance.json", 1 << 16);
  ASSERT_TRUE(meta.ok());
  int port = nlohmann::json::parse(*meta).value("port", 0);
  ASSERT_GT(port, 0);

  auto finish = Auri({"instance", "switch", "second"}, seconds(300));
  ASSERT_TRUE(finish.ok()) << finish.status().ToString();
  EXPECT_EQ(finish->exit_code, 0) << output << finish->output;
  ComponentState pg = Component("postgres");
  EXPECT_EQ(pg.port, port);
  EXPECT_EQ(pg.pid, ReadyPostmasterPid(data_dir));
  EXPECT_FALSE(PostgresAcceptsConnections("127.0.0.1", current.port, 1))
      << "the previous database is stopped";
  ASSERT_TRUE(WaitForApi(seconds(30)));
  EXPECT_EQ(Api("GET", "/api/v1/triggers/" + marker).status, 200);
  std::string written = CreateTrigger("written after instance switch");
  ASSERT_FALSE(written.empty());
  EXPECT_EQ(Scalar(AdminDsn(port), "SELECT count(*) FROM triggers WHERE id = '" + written + "'"),
            "1");
  // Its timeline reaches the repositories: a restore of everything archived has that write.
  auto third = Auri({"restore", "--as", "third", "--latest", "--json"}, seconds(300));
  ASSERT_TRUE(third.ok());
  ASSERT_EQ(third->exit_code, 0) << third->output;
  int third_port = JsonOf(third->output).value("port", 0);
  EXPECT_EQ(
      Scalar(AdminDsn(third_port), "SELECT count(*) FROM triggers WHERE id = '" + written + "'"),
      "1");

  // Repeating the switch changes nothing. An instance restored without --switch is refused (its
  // timeline was never kept for archiving); an unknown one is a clear error.
  auto again = Auri({"instance", "switch", "second"}, seconds(300));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->exit_code, 0) << again->output;
  EXPECT_EQ(Component("postgres").pid, pg.pid);
  auto refused = Auri({"instance", "switch", "third"}, seconds(60));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->exit_code, 4) << refused->output;
  EXPECT_NE(refused->output.find("restored without --switch"), std::string::npos)
      << refused->output;
  // Also when its server is not running (the supervisor would start it with archiving on, but
  // the timeline's start was never kept).
  auto stop = RunCommand({"/usr/lib/postgresql/15/bin/pg_ctl", "stop", "-D",
                          stack_.home + "/instances/third/data", "-m", "fast", "-w", "-t", "60"},
                         "postgres", seconds(70));
  ASSERT_TRUE(stop.ok());
  ASSERT_EQ(stop->exit_code, 0) << stop->output;
  auto refused_stopped = Auri({"instance", "switch", "third"}, seconds(60));
  ASSERT_TRUE(refused_stopped.ok());
  EXPECT_EQ(refused_stopped->exit_code, 4) << refused_stopped->output;
  EXPECT_EQ(Component("postgres").port, port);
  auto unknown = Auri({"instance", "switch", "no-such-instance"}, seconds(30));
  ASSERT_TRUE(unknown.ok());
  EXPECT_NE(unknown->exit_code, 0);
  EXPECT_NE(unknown->output.find("no restored instance 'no-such-instance'"), std::string::npos)
      << unknown->output;
}

}  // namespace
}  // namespace auri
