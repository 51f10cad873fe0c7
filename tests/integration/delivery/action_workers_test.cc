// Action delivery against a real PostgreSQL and real HTTP receivers started by the test: jobs are
// inserted with SQL (as the event-processor would), a delivery::Worker runs in-process, and the
// receiver sees exactly what a webhook consumer would.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/logging.h"
#include "common/metrics.h"
#include "common/random.h"
#include "delivery/worker.h"
#include "stack/net_probe.h"
#include "stack/process.h"
#include "store/job_repository.h"
#include "store/pool.h"
#include "tests/integration/delivery/delivery_test_util.h"
#include "tests/integration/delivery/http_receiver.h"
#include "tests/integration/harness.h"
#include "tests/integration/store/store_test_util.h"

namespace auri::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The signing secret of these tests, in the standard whsec_ form, and its raw key.
const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string RawKey() {
  std::string key;
  EXPECT_TRUE(Base64Decode(std::string(kSecret).substr(6), &key));
  return key;
}

// Verification exactly as the Standard Webhooks specification describes it for receivers:
// signed content "<webhook-id>.<webhook-timestamp>.<body>", HMAC-SHA256 with the base64-decoded
// secret, compared with each space-separated "v1,<base64>" entry; timestamp within 5 minutes.
bool VerifyStandardWebhook(const ReceivedRequest& r) {
  std::string id = r.Header("webhook-id"), ts = r.Header("webhook-timestamp");
  if (id.empty() || ts.empty()) return false;
  long long t = std::stoll(ts);
  long long now =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  if (std::llabs(now - t) > 300) return false;
  std::string content = id + "." + ts + "." + r.body;
  std::string key = RawKey();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &len);
  std::string expected = "v1," + Base64Encode(std::string(reinterpret_cast<char*>(mac), len));
  std::string sigs = r.Header("webhook-signature");
  size_t pos = 0;
  while (pos <= sigs.size()) {
    size_t sp = sigs.find(' ', pos);
    if (sp == std::string::npos) sp = sigs.size();
    if (sigs.substr(pos, sp - pos) == expected) return true;
    pos = sp + 1;
  }
  return false;
}

class ActionWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = CreateMigratedDatabase();
    org_ = CreateOrganizationWithOwner(dsn_);
    trigger_ = QueryValue(dsn_, "INSERT INTO triggers (organization_id, name, registry) VALUES ('" +
                                    org_ + "', 'my trigger', 'reputation') RETURNING id");
    PoolOptions po;
    po.dsn = dsn_;
    po.size = 4;
    pool_ = std::make_unique<ConnectionPool>(po);
  }
  void TearDown() override { StopWorker(); }

  // Inserts one job; returns its id.
  std::string InsertJob(const nlohmann::json& config, const std::string& type = "webhook",
                        const std::string& event_id = "") {
    nlohmann::json event = {{"id", event_id.empty() ? "ev-" + RandomHex(6) : event_id},
                            {"event_type", "NewFeedback"},
                            {"agent_id", 42},
                            {"score", 87},
                            {"tag1", "fast_and_good"},
                            {"timestamp", 1700000000}};
    pqxx::connection conn(dsn_);
    pqxx::work tx(conn);
    auto r = tx.exec_params(
        "INSERT INTO action_jobs (trigger_id, event_id, action_type, config, event_data) "
        "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) RETURNING id",
        trigger_, event["id"].get<std::string>(), type, config.dump(), event.dump());
    tx.commit();
    return r[0][0].as<std::string>();
  }

  void StartWorker(delivery::PrivateDestinations policy = delivery::PrivateDestinations::kAllow,
                   std::string telegram_base = "", std::string telegram_token = "",
                   int per_host_concurrency = 32, int concurrency = 256) {
    delivery::WorkerOptions o;
    o.per_host_concurrency = per_host_concurrency;
    o.concurrency = concurrency;
    o.owner = "test:" + RandomHex(4);
    o.lease = seconds(60);
    o.poll_interval = milliseconds(100);
    o.private_destinations = policy;
    o.user_agent = "auri/test";
    o.telegram_api_base = telegram_base;
    o.shutdown_grace = milliseconds(500);
    delivery::WorkerDeps d;
    d.pool = pool_.get();
    d.signing_keys = [] { return Result<std::vector<std::string>>(std::vector{RawKey()}); };
    d.telegram_token = [telegram_token]() -> Result<std::string> {
      if (telegram_token.empty()) return NotFound("secret telegram-bot-token does not exist");
      return telegram_token;
    };
    d.telegram_limiter = &limiter_;
    d.metrics = &metrics_;
    d.logger = &logger_;
    worker_ = std::make_unique<delivery::Worker>(o, d);
    stop_ = false;
    thread_ = std::thread([this] { run_status_ = worker_->Run(stop_); });
  }

  void StopWorker() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_.ToString();
  }

  std::string JobField(const std::string& id, const std::string& column) {
    return QueryValue(dsn_, "SELECT " + column + " FROM action_jobs WHERE id = '" + id + "'");
  }

  bool WaitForStatus(const std::string& id, const std::string& status, milliseconds timeout) {
    return PollUntil(timeout, [&] { return JobField(id, "status") == status; });
  }

  std::string dsn_, org_, trigger_;
  std::unique_ptr<ConnectionPool> pool_;
  MetricsRegistry metrics_;
  Logger logger_{2, "action-workers-test", LogLevel::kWarn};
  delivery::TelegramRateLimiter limiter_;
  std::unique_ptr<delivery::Worker> worker_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  Status run_status_;
};

TEST_F(ActionWorkersTest, DeliversRenderedSignedBodyWithJobIdAsIdempotencyKey) {
  HttpReceiver receiver([](const ReceivedRequest&, int) { return ReceiverResponse{}; });
  std::string job = InsertJob(
      {{"url", receiver.Url()}, {"body", {{"agent", "{{agent_id}}"}, {"text", "tag {{tag1}}"}}}});
  StartWorker();
  ASSERT_TRUE(WaitForStatus(job, "succeeded", seconds(10)));
  auto reqs = receiver.Requests();
  ASSERT_EQ(reqs.size(), 1u);
  const ReceivedRequest& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(nlohmann::json::parse(r.body),
            nlohmann::json::parse(R"({"agent":42,"text":"tag fast_and_good"})"));
  EXPECT_EQ(r.Header("idempotency-key"), job);
  EXPECT_EQ(r.Header("webhook-id"), job);
  EXPECT_EQ(r.Header("x-auri-trigger-id"), trigger_);
  EXPECT_EQ(r.Header("user-agent"), "auri/test");
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_TRUE(VerifyStandardWebhook(r)) << r.Header("webhook-signature");
  EXPECT_EQ(QueryValue(dsn_,
                       "SELECT status || ':' || attempts || ':' || status_code "
                       "FROM action_results WHERE job_id = '" +
                           job + "'"),
            "success:1:200");
}

TEST_F(ActionWorkersTest, RetriesServerErrorsWithGrowingDelaysUntilDelivered) {
  HttpReceiver receiver([](const ReceivedRequest&, int i) {
    ReceiverResponse r;
    r.status = i < 2 ? 500 : 200;
    return r;
  });
  std::string job = InsertJob({{"url", receiver.Url()}});
  StartWorker();
  ASSERT_TRUE(WaitForStatus(job, "succeeded", seconds(15)));
  auto reqs = receiver.Requests();
  ASSERT_EQ(reqs.size(), 3u);
  auto gap1 = reqs[1].at - reqs[0].at, gap2 = reqs[2].at - reqs[1].at;
  EXPECT_GE(gap1, milliseconds(800));   // 1 s − 20 %
  EXPECT_GE(gap2, milliseconds(1600));  // 2 s − 20 %
  EXPECT_GT(gap2, gap1);
  for (const auto& r : reqs) EXPECT_EQ(r.Header("idempotency-key"), job);
  EXPECT_EQ(JobField(job, "attempts"), "3");
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(*) FROM action_results WHERE job_id = '" + job + "'"),
            "1");
}

TEST_F(ActionWorkersTest, HonoursRetryAfterOn429) {
  HttpReceiver receiver([](const ReceivedRequest&, int i) {
    ReceiverResponse r;
    if (i == 0) {
      r.status = 429;
      r.headers = {{"Retry-After", "2"}};
    }
    return r;
  });
  std::string job = InsertJob({{"url", receiver.Url()}});
  StartWorker();
  ASSERT_TRUE(WaitForStatus(job, "succeeded", seconds(10)));
  auto reqs = receiver.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_GE(reqs[1].at - reqs[0].at, milliseconds(2000));
}

TEST_F(ActionWorkersTest, ClientErrorIsDeadAtOnceWithResultRow) {
  HttpReceiver receiver([](const ReceivedRequest&, int) {
    ReceiverResponse r;
    r.status = 400;
    r.body = "bad payload";
    return r;
  });
  std::string job = InsertJob({{"url", receiver.Url()}});
  StartWorker();
  ASSERT_TRUE(WaitForStatus(job, "dead", seconds(10)));
  EXPECT_EQ(receiver.Count(), 1u);
  EXPECT_EQ(QueryValue(dsn_,
                       "SELECT status || ':' || attempts || ':' || status_code || ':' || "
                       "response_excerpt FROM action_results WHERE job_id = '" +
                           job + "'"),
            "failed:1:400:bad payload");
  auto dead = ListDeadLetters(*pool_, trigger_, 10, seconds(5));
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, job);
}

TEST_F(ActionWorkersTest, TimeoutIsRetried) {
  HttpReceiver receiver([](const ReceivedRequest&, int i) {
    ReceiverResponse r;
    if (i == 0) r.delay = milliseconds(2500);
    return r;
  });
  std::string job = InsertJob({{"url", receiver.Url()}, {"timeout_seconds", 1}});
  StartWorker();
  ASSERT_TRUE(WaitForStatus(job, "succeeded", seconds(15)));
  EXPECT_EQ(receiver.Count(), 2u);
  EXPECT_EQ(JobField(job, "attempts"), "2");
}

TEST_F(ActionWorkersTest, PrivateDestinationsAreRefusedWhenNotAllowed) {
  HttpReceiver receiver([](const ReceivedRequest&, int) { return ReceiverResponse{}; });
  std::string port = std::to_string(receiver.port());
  std::vector<std::string> urls = {"http://127.0.0.1:" + port + "/hook",
                                   "http://localhost:" + port + "/hook",
                                   "http://[::1]:" + port + "/hook",
                                   "http://10.0.0.1/hook",
                                   "http://192.168.1.1/hook",
                                   "http://169.254.169.254/latest/meta-data/",
                                   "http://169.254.10.10/hook",
                                   "http://[fe80::1]/hook",
                                   "http://0.0.0.0:" + port + "/hook"};
  std::vector<std::string> jobs;
  for (const auto& u : urls) jobs.push_back(InsertJob({{"url", u}}));
  StartWorker(delivery::PrivateDestinations::kRefuse);
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(WaitForStatus(jobs[i], "dead", seconds(10))) << urls[i];
    EXPECT_NE(JobField(jobs[i], "last_error").find("private address"), std::string::npos)
        << urls[i] << ": " << JobField(jobs[i], "last_error");
    EXPECT_EQ(JobField(jobs[i], "attempts"), "1");
  }
  EXPECT_EQ(receiver.Count(), 0u);
}

// Regression (spec "fix"): config and template errors leave a result row and a dead letter.
TEST_F(ActionWorkersTest, InvalidConfigBecomesDeadLetterWithResultRow) {
  std::string job = InsertJob({{"url", "http://127.0.0.1:1/x"}, {"method", "TRACE"}});
  StartWorker();
  ASSERT_TRUE(WaitForStatus(job, "dead", seconds(10)));
  EXPECT_NE(QueryValue(dsn_, "SELECT error FROM action_results WHERE job_id = '" + job + "'")
                .find("method"),
            std::string::npos);
}

// Regression: the first KiB of a response is kept in the result row; cut inside a UTF-8 character
// (or binary, with NUL bytes) it used to make the outcome write fail, so the job was delivered
// again after every lease expiry.
TEST_F(ActionWorkersTest, ResponseExcerptThatIsNotValidTextIsStoredRepaired) {
  HttpReceiver receiver([](const ReceivedRequest&, int) {
    ReceiverResponse r;
    r.body = std::string(1023, 'a') + "\xC3\xA9 tail" + std::string("\0\xFF", 2);
    return r;
  });
  HttpReceiver binary([](const ReceivedRequest&, int) {
    ReceiverResponse r;
    r.body = std::string(
        "ok\0\xFF\xFE"
        "end",
        8);
    return r;
  });
  std::string cut = InsertJob({{"url", receiver.Url()}});
  std::string nul = InsertJob({{"url", binary.Url()}});
  StartWorker();
  ASSERT_TRUE(WaitForStatus(cut, "succeeded", seconds(10))) << JobField(cut, "last_error");
  ASSERT_TRUE(WaitForStatus(nul, "succeeded", seconds(10))) << JobField(nul, "last_error");
  EXPECT_EQ(
      QueryValue(dsn_, "SELECT response_excerpt FROM action_results WHERE job_id = '" + cut + "'"),
      std::string(1023, 'a') + "\xEF\xBF\xBD");
  EXPECT_EQ(
      QueryValue(dsn_, "SELECT response_excerpt FROM action_results WHERE job_id = '" + nul + "'"),
      "ok\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
      "end");
  EXPECT_EQ(receiver.Count(), 1u);
}

TEST_F(ActionWorkersTest, ReplayMakesADeadLetterPendingAndItIsDeliveredAgain) {
  std::atomic<int> fail{1};
  HttpReceiver receiver([&](const ReceivedRequest&, int) {
    ReceiverResponse r;
    r.status = fail.load() ? 404 : 200;
    return r;
  });
  std::string job = InsertJob({{"url", receiver.Url()}});
  StartWorker();
  ASSERT_TRUE(WaitForStatus(job, "dead", seconds(10)));
  fail = 0;
  auto n = ReplayDeadLetter(*pool_, job, seconds(5));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  ASSERT_TRUE(WaitForStatus(job, "succeeded", seconds(10)));
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(*) FROM action_results WHERE job_id = '" + job + "'"),
            "2");
}

TEST_F(ActionWorkersTest, TelegramMessageIsSentWithEscapedValues) {
  HttpReceiver telegram([](const ReceivedRequest&, int) {
    ReceiverResponse r;
    r.body = R"({"ok":true,"result":{"message_id":1}})";
    return r;
  });
  std::string job = InsertJob(
      {{"chat_id", "-1001"}, {"message_template", "*{{event_type}}* tag {{tag1}}"}}, "telegram");
  StartWorker(delivery::PrivateDestinations::kAllow, telegram.Url(""), "123:TOKEN");
  ASSERT_TRUE(WaitForStatus(job, "succeeded", seconds(10)));
  auto reqs = telegram.Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/bot123:TOKEN/sendMessage");
  auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["chat_id"], "-1001");
  EXPECT_EQ(body["text"], "*NewFeedback* tag fast\\_and\\_good");
  EXPECT_EQ(body["parse_mode"], "MarkdownV2");
}

// Against telegram-test-api (an npm Telegram Bot API emulator, installed by scripts/install-deps):
// the message the emulator stored for the bot is exactly the escaped text. Skipped when the
// emulator is not installed, except with AURI_REQUIRE_TELEGRAM_EMULATOR=1 (set by `make test` and
// so by CI), where a missing emulator fails the test instead of hiding it.
TEST_F(ActionWorkersTest, TelegramMessageReachesTheTelegramTestApiEmulator) {
  std::string dir = std::string(AURI_SOURCE_DIR) + "/tests/integration/delivery/telegram-test-api";
  if (::access((dir + "/node_modules/telegram-test-api").c_str(), F_OK) != 0 ||
      ::access("/usr/bin/node", X_OK) != 0) {
    const char* required = std::getenv("AURI_REQUIRE_TELEGRAM_EMULATOR");
    if (required != nullptr && std::string(required) == "1") {
      FAIL() << "telegram-test-api is not installed (" << dir
             << "/node_modules, /usr/bin/node) and AURI_REQUIRE_TELEGRAM_EMULATOR=1; "
                "hint: run scripts/install-deps base";
    }
    GTEST_SKIP() << "telegram-test-api is not installed: run scripts/install-deps base "
                    "(AURI_REQUIRE_TELEGRAM_EMULATOR=1 turns this skip into a failure)";
  }
  int port = FreePort();
  SpawnOptions spawn;
  spawn.argv = {"/usr/bin/node", dir + "/server.js", std::to_string(port)};
  spawn.cwd = dir;
  spawn.parent_death_signal = SIGKILL;
  auto node = Spawn(spawn);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  struct Stop {
    pid_t pid;
    ~Stop() { (void)StopProcess(pid, SIGTERM, seconds(5), true); }
  } stop{*node};
  ASSERT_TRUE(PollUntil(seconds(20), [&] {
    auto r = HttpGet("127.0.0.1", port, "/", milliseconds(500));
    return r.ok();
  })) << "emulator did not listen";

  const std::string token = "4242:TEST-token";
  std::string job = InsertJob(
      {{"chat_id", "1001"}, {"message_template", "*{{event_type}}* tag {{tag1}} score {{score}}"}},
      "telegram");
  StartWorker(delivery::PrivateDestinations::kAllow, "http://127.0.0.1:" + std::to_string(port),
              token);
  ASSERT_TRUE(WaitForStatus(job, "succeeded", seconds(10))) << JobField(job, "last_error");

  std::string body = nlohmann::json({{"token", token}}).dump();
  std::string request =
      "POST /getUpdatesHistory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  auto reply = TcpExchange("127.0.0.1", port, request, seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto json = nlohmann::json::parse(reply->substr(reply->find("\r\n\r\n") + 4), nullptr, false);
  ASSERT_TRUE(json.is_object()) << *reply;
  ASSERT_EQ(json["result"].size(), 1u) << *reply;
  const auto& message = json["result"][0]["message"];
  // Substituted values are escaped; the template's own MarkdownV2 (the bold stars) is kept.
  EXPECT_EQ(message["text"], "*NewFeedback* tag fast\\_and\\_good score 87") << *reply;
  EXPECT_EQ(message["parse_mode"], "MarkdownV2");
  EXPECT_EQ(message["chat_id"], "1001");
}

TEST_F(ActionWorkersTest, TelegramWithoutTokenIsDeadWithClearError) {
  std::string job = InsertJob({{"chat_id", "1"}, {"message_template", "hi"}}, "telegram");
  StartWorker(delivery::PrivateDestinations::kAllow, "http://127.0.0.1:1", "");
  ASSERT_TRUE(WaitForStatus(job, "dead", seconds(10)));
  EXPECT_NE(JobField(job, "last_error").find("telegram-bot-token"), std::string::npos);
}

TEST_F(ActionWorkersTest, ExpiredLeaseIsReclaimedAndGracefulStopReleasesLeases) {
  std::string job = InsertJob({{"url", "http://127.0.0.1:1/x"}});
  auto claimed = ClaimDueJobs(*pool_, "ghost", 10, seconds(1), seconds(5));
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(JobField(job, "status"), "running");
  EXPECT_EQ(JobField(job, "lease_owner"), "ghost");
  // Nobody else can claim it while leased.
  auto again = ClaimDueJobs(*pool_, "other", 10, seconds(1), seconds(5));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  ASSERT_TRUE(PollUntil(seconds(5), [&] {
    auto r = ReclaimExpiredLeases(*pool_, seconds(5));
    return r.ok() && *r == 1;
  }));
  EXPECT_EQ(JobField(job, "status"), "pending");
  auto mine = ClaimDueJobs(*pool_, "me", 10, seconds(60), seconds(5));
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  auto released = ReleaseLeases(*pool_, "me", seconds(5));
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, 1);
  EXPECT_EQ(JobField(job, "status"), "pending");
  EXPECT_EQ(JobField(job, "lease_owner"), "");
}

TEST_F(ActionWorkersTest, PerHostCapLimitsConcurrentRequestsToOneReceiver) {
  std::atomic<int> current{0}, peak{0};
  HttpReceiver receiver([&](const ReceivedRequest&, int) {
    int now = ++current;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(milliseconds(200));
    --current;
    return ReceiverResponse{};
  });
  std::vector<std::string> jobs;
  for (int i = 0; i < 8; ++i) jobs.push_back(InsertJob({{"url", receiver.Url()}}));
  StartWorker(delivery::PrivateDestinations::kAllow, "", "", /*per_host_concurrency=*/2);
  for (const auto& j : jobs) ASSERT_TRUE(WaitForStatus(j, "succeeded", seconds(15)));
  EXPECT_EQ(peak.load(), 2);
}

// Regression (found by bench/e2e.sh): claims were limited by room in the HTTP loop only, so when
// outcome writes fell behind a worker kept claiming until its leases expired and jobs were
// delivered twice. Here outcome writes are blocked (action_results locked by another session):
// the worker must stop at 2 x concurrency leases, not claim all 40 jobs.
TEST_F(ActionWorkersTest, LeasesStayBoundedWhileOutcomeWritesAreBlocked) {
  HttpReceiver receiver([](const ReceivedRequest&, int) { return ReceiverResponse{}; });
  std::vector<std::string> jobs;
  for (int i = 0; i < 40; ++i) jobs.push_back(InsertJob({{"url", receiver.Url()}}));
  pqxx::connection blocker(dsn_);
  pqxx::work lock(blocker);
  lock.exec("LOCK TABLE action_results IN SHARE ROW EXCLUSIVE MODE");  // blocks INSERTs
  StartWorker(delivery::PrivateDestinations::kAllow, "", "", /*per_host_concurrency=*/32,
              /*concurrency=*/4);
  // Deliveries go on until the lease bounds stop the claims: at most 2 x concurrency finished
  // jobs waiting for their outcome, plus at most 2 x concurrency claimed before that point —
  // under 16 requests, then nothing (without a bound all 40 go out).
  ASSERT_TRUE(PollUntil(seconds(10), [&] { return receiver.Count() >= 8; }));
  size_t seen = 0;
  auto stable_since = std::chrono::steady_clock::now();
  auto deadline = stable_since + seconds(10);
  while (std::chrono::steady_clock::now() - stable_since < seconds(1)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "deliveries never stopped";
    if (receiver.Count() != seen) {
      seen = receiver.Count();
      stable_since = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_LT(seen, 16u);
  // Every delivered job still holds its lease: none was finished, none was claimed twice.
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(*) FROM action_jobs WHERE status = 'running'"),
            std::to_string(seen));
  lock.commit();
  for (const auto& j : jobs) ASSERT_TRUE(WaitForStatus(j, "succeeded", seconds(15)));
  EXPECT_EQ(receiver.Count(), 40u);
}

TEST_F(ActionWorkersTest, ClaimStatementIsPreparedAgainAfterTenSeconds) {
  // The claim is a prepared statement whose generic plan must not outlive a burst of jobs for
  // long: each connection drops and prepares it again every 10 s (job_repository.cc).
  PoolOptions po;
  po.dsn = dsn_;
  po.size = 1;  // one connection: the claims and the check below share it
  ConnectionPool pool(po);
  auto prepared_at = [&] {
    auto conn = pool.Acquire(seconds(5));
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    if (!conn.ok()) return std::string();
    pqxx::nontransaction tx(conn->get());
    auto r = tx.exec(
        "SELECT prepare_time::text FROM pg_prepared_statements WHERE name = 'auri_claim_due_jobs'");
    return r.empty() ? std::string("none") : r[0][0].as<std::string>();
  };
  ASSERT_TRUE(ClaimDueJobs(pool, "w", 10, seconds(60), seconds(5)).ok());
  std::string first = prepared_at();
  ASSERT_NE(first, "none");
  ASSERT_TRUE(ClaimDueJobs(pool, "w", 10, seconds(60), seconds(5)).ok());
  EXPECT_EQ(prepared_at(), first);  // reused within 10 s
  std::this_thread::sleep_for(milliseconds(10'500));
  ASSERT_TRUE(ClaimDueJobs(pool, "w", 10, seconds(60), seconds(5)).ok());
  std::string again = prepared_at();
  EXPECT_NE(again, "none");
  EXPECT_GT(again, first);  // same text format, so later sorts later
}

TEST_F(ActionWorkersTest, PurgeDeletesFinishedJobsOlderThanRetentionOnly) {
  auto insert = [&](const std::string& status, const std::string& age) {
    return QueryValue(
        dsn_,
        "INSERT INTO action_jobs (trigger_id, event_id, action_type, config, event_data, "
        "status, created_at, updated_at) VALUES ('" +
            trigger_ + "', 'ev-" + RandomHex(4) + "', 'webhook', '{}', '{}', '" + status +
            "', now() - interval '" + age + "', now() - interval '" + age + "') RETURNING id");
  };
  std::string old_done = insert("succeeded", "40 days");
  std::string old_dead = insert("dead", "31 days");
  std::string old_pending = insert("pending", "40 days");  // never purged: not finished
  std::string recent = insert("succeeded", "1 day");
  auto purged = PurgeOldJobs(*pool_, std::chrono::hours(24 * 30), seconds(5));
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 2);
  EXPECT_EQ(JobField(old_done, "status"), "");
  EXPECT_EQ(JobField(old_dead, "status"), "");
  EXPECT_EQ(JobField(old_pending, "status"), "pending");
  EXPECT_EQ(JobField(recent, "status"), "succeeded");
}

}  // namespace
}  // namespace auri::testing
