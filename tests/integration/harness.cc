#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "common/logging.h"
#include "stack/postgres_server.h"
#include "stack/process.h"
#include "stack/redis_server.h"
#include "store/migrations.h"

namespace auri::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Running {
  Services services;
  std::unique_ptr<PostgresServer> postgres;
  std::unique_ptr<RedisServer> redis;
  pid_t postgres_pid = -1;
  pid_t redis_pid = -1;
  std::mutex template_mu;
  bool template_ready = false;
  std::atomic<int> next_db{0};
};

Running* g_running = nullptr;

// Starts the shared servers once per test binary and removes them at the end.
class ServicesEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto* r = new Running();
    char tmpl[] = "/tmp/auri-it-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    r->services.home = tmpl;
    ::chmod(tmpl, 0755);
    r->services.pg_host = "127.0.0.1";
    r->services.pg_port = FreePort();
    r->services.pg_user = "postgres";
    r->services.redis_host = "127.0.0.1";
    r->services.redis_port = FreePort();

    PostgresServerOptions pg;
    pg.data_dir = r->services.home + "/pg/data";
    pg.socket_dir = r->services.home + "/pg/run";
    pg.log_file = r->services.home + "/log/postgres.log";
    pg.port = r->services.pg_port;
    // Test data is throwaway: skip fsync so the suite stays fast.
    pg.settings = {"fsync=off", "synchronous_commit=off", "full_page_writes=off",
                   "max_connections=200"};
    r->postgres = std::make_unique<PostgresServer>(pg);
    Status s = r->postgres->InitIfNeeded(seconds(60));
    ASSERT_TRUE(s.ok()) << s.ToString();

    RedisServerOptions rs;
    rs.port = r->services.redis_port;
    rs.dir = r->services.home + "/redis";
    rs.log_file = r->services.home + "/log/redis.log";
    r->redis = std::make_unique<RedisServer>(rs);
    g_running = r;
    StartPostgres();
    StartRedis();
  }

  void TearDown() override {
    if (!g_running) return;
    if (g_running->redis_pid > 0) (void)g_running->redis->Stop(g_running->redis_pid, seconds(10));
    if (g_running->postgres_pid > 0) {
      (void)g_running->postgres->Stop(g_running->postgres_pid, seconds(20));
    }
    if (!std::getenv("AURI_KEEP_TEST_HOME")) {
      std::string cmd = "rm -rf '" + g_running->services.home + "'";
      (void)!std::system(cmd.c_str());
    }
    delete g_running;
    g_running = nullptr;
  }
};

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new ServicesEnvironment);

std::string UniqueDatabaseName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string base = info ? std::string(info->test_suite_name()) + "_" + info->name() : "db";
  std::string name;
  for (char c : base) {
    name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c))
                                                               : '_');
  }
  if (name.size() > 40) name = name.substr(0, 40);
  return "t_" + name + "_" + std::to_string(::getpid()) + "_" +
         std::to_string(g_running->next_db.fetch_add(1));
}

}  // namespace

const Services& GetServices() {
  if (!g_running) {
    std::fprintf(stderr, "harness: services are not running (SetUp failed?)\n");
    std::abort();
  }
  return g_running->services;
}

std::string AdminDsn() { return g_running->postgres->Dsn("postgres"); }

std::string CreateEmptyDatabase() {
  std::string name = UniqueDatabaseName();
  Status s = ExecuteAdminSql(AdminDsn(), "CREATE DATABASE " + name);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return g_running->postgres->Dsn(name);
}

std::string CreateMigratedDatabase() {
  {
    std::lock_guard lock(g_running->template_mu);
    if (!g_running->template_ready) {
      Status s = ExecuteAdminSql(AdminDsn(), "CREATE DATABASE auri_template");
      EXPECT_TRUE(s.ok()) << s.ToString();
      Logger quiet(2, "harness", LogLevel::kWarn);
      auto report = ApplyMigrations(g_running->postgres->Dsn("auri_template"), quiet);
      EXPECT_TRUE(report.ok()) << report.status().ToString();
      g_running->template_ready = report.ok();
    }
  }
  std::string name = UniqueDatabaseName();
  Status s = ExecuteAdminSql(AdminDsn(), "CREATE DATABASE " + name + " TEMPLATE auri_template");
  EXPECT_TRUE(s.ok()) << s.ToString();
  return g_running->postgres->Dsn(name);
}

std::string KeyPrefix() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return "t:" + std::string(info->test_suite_name()) + "." + info->name() + ":";
}

void StopPostgres() {
  ASSERT_GT(g_running->postgres_pid, 0) << "postgres is not running";
  Status s = g_running->postgres->Stop(g_running->postgres_pid, seconds(20));
  ASSERT_TRUE(s.ok()) << s.ToString();
  g_running->postgres_pid = -1;
}

void StartPostgres() {
  auto pid = g_running->postgres->Start();
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  g_running->postgres_pid = *pid;
  Status s = g_running->postgres->WaitReady(*pid, seconds(30));
  ASSERT_TRUE(s.ok()) << s.ToString();
}

void StopRedis() {
  ASSERT_GT(g_running->redis_pid, 0) << "redis is not running";
  Status s = g_running->redis->Stop(g_running->redis_pid, seconds(10));
  ASSERT_TRUE(s.ok()) << s.ToString();
  g_running->redis_pid = -1;
}

void StartRedis() {
  auto pid = g_running->redis->Start();
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  g_running->redis_pid = *pid;
  Status s = g_running->redis->WaitReady(*pid, seconds(10));
  ASSERT_TRUE(s.ok()) << s.ToString();
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string AuriBinary() { return AURI_BINARY_PATH; }

StackHome StackHome::Create(const std::string& prefix) {
  StackHome s;
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << ": " << std::strerror(errno);
    return s;
  }
  s.home = buf.data();
  ::chmod(s.home.c_str(), 0755);
  for (int* port : {&s.api_port, &s.pg_port, &s.redis_port, &s.processor_port, &s.workers_port,
                    &s.agent_port}) {
    *port = FreePort();
  }
  return s;
}

std::vector<std::string> StackHome::Argv(const std::vector<std::string>& sets,
                                         const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {AuriBinary()};
  std::vector<std::string> all = {"general.home=" + home,
                                  "api.port=" + std::to_string(api_port),
                                  "postgres.port=" + std::to_string(pg_port),
                                  "redis.port=" + std::to_string(redis_port),
                                  "processor.metrics_port=" + std::to_string(processor_port),
                                  "delivery.metrics_port=" + std::to_string(workers_port),
                                  "dr_agent.metrics_port=" + std::to_string(agent_port)};
  all.insert(all.end(), sets.begin(), sets.end());
  for (const std::string& s : all) {
    argv.push_back("--set");
    argv.push_back(s);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void StackHome::Remove() const {
  if (home.empty()) return;
  std::string cmd = "rm -rf '" + home + "'";
  (void)!std::system(cmd.c_str());
}

}  // namespace auri::testing
