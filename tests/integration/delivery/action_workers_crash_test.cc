// Crash safety of `auri action-workers` as a real process: kill -9 with jobs in flight, restart,
// and every job is delivered — at least once, so a receiver de-duplicating by Idempotency-Key
// counts each job exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/random.h"
#include "secrets/master_key.h"
#include "secrets/secret_store.h"
#include "stack/net_probe.h"
#include "stack/process.h"
#include "tests/integration/delivery/delivery_test_util.h"
#include "tests/integration/delivery/http_receiver.h"
#include "tests/integration/harness.h"
#include "tests/integration/store/store_test_util.h"

namespace auri::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ActionWorkersProcess, KillNineWithJobsInFlightThenRestartDeliversEachJobOnce) {
  constexpr int kJobs = 1000;
  std::string dsn = CreateMigratedDatabase();
  std::string home = GetServices().home + "/workers-" + RandomHex(4);
  // The secret store `auri up` would have prepared (the role reads the signing secret from it).
  std::string raw_key(MasterKey::kSize, '\0');
  RandomBytes(raw_key.data(), raw_key.size());
  {
    auto key = MasterKey::FromBytes(raw_key);
    ASSERT_TRUE(key.ok());
    auto store = SecretStore::Open(home + "/secrets", std::move(key).value());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE(store->EnsureInitialSecrets().ok());
  }

  std::mutex mu;
  std::set<std::string> seen_keys;
  // Slow enough that many requests are in flight when the process is killed.
  HttpReceiver receiver([&](const ReceivedRequest& r, int) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen_keys.insert(r.Header("idempotency-key"));
    }
    ReceiverResponse resp;
    resp.delay = milliseconds(300);
    return resp;
  });

  std::string org = CreateOrganizationWithOwner(dsn);
  std::string trigger =
      QueryValue(dsn, "INSERT INTO triggers (organization_id, name, registry) VALUES ('" + org +
                          "', 't', 'identity') RETURNING id");
  nlohmann::json config = {{"url", receiver.Url()}};
  ExecSql(dsn,
          "INSERT INTO action_jobs (trigger_id, event_id, action_type, config, event_data) "
          "SELECT '" +
              trigger + "', 'ev-' || g, 'webhook', '" + config.dump() +
              "'::jsonb, jsonb_build_object('id', 'ev-' || g) FROM generate_series(1, " +
              std::to_string(kJobs) + ") g");

  SpawnOptions spawn;
  spawn.argv = {AuriBinary(),
                "--set",
                "general.home=" + home,
                "--set",
                "postgres.dsn=" + dsn,
                "--set",
                "delivery.lease_seconds=2",
                "--set",
                "delivery.poll_interval_ms=100",
                "--set",
                "delivery.per_host_concurrency=256",
                "--set",
                "delivery.allow_private_destinations=true",
                "--set",
                "delivery.metrics_port=0",
                "action-workers"};
  spawn.env = {"AURI_MASTER_KEY=" + Base64Encode(raw_key)};
  spawn.log_file = home + "/action-workers.log";
  spawn.parent_death_signal = SIGKILL;

  auto first = Spawn(spawn);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(PollUntil(seconds(30), [&] { return receiver.Count() >= 200; }))
      << "first worker delivered " << receiver.Count();
  ::kill(*first, SIGKILL);
  ASSERT_TRUE(WaitForExit(*first, seconds(10)).ok());
  std::string running =
      QueryValue(dsn, "SELECT count(*) FROM action_jobs WHERE status = 'running'");
  EXPECT_GT(std::stoi(running), 0) << "the kill should have left leased jobs behind";

  // The restarted worker serves its metrics, which must show the deliveries it made.
  int metrics_port = FreePort();
  spawn.argv[spawn.argv.size() - 2] = "delivery.metrics_port=" + std::to_string(metrics_port);
  auto second = Spawn(spawn);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  bool all = PollUntil(seconds(60), [&] {
    return QueryValue(dsn, "SELECT count(*) FROM action_jobs WHERE status = 'succeeded'") ==
           std::to_string(kJobs);
  });
  auto metrics = HttpGet("127.0.0.1", metrics_port, "/metrics", seconds(2));
  (void)StopProcess(*second, SIGTERM, seconds(15), true);
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  EXPECT_NE(metrics->body.find("auri_delivery_jobs_succeeded_total{type=\"webhook\"}"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("auri_delivery_latency_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics->body.find("auri_delivery_queue_pending"), std::string::npos);
  ASSERT_TRUE(all) << QueryValue(dsn,
                                 "SELECT string_agg(status || '=' || n, ',') FROM "
                                 "(SELECT status, count(*) n FROM action_jobs GROUP BY 1) s");

  std::set<std::string> job_ids;
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  for (const auto& row : tx.exec("SELECT id FROM action_jobs")) job_ids.insert(row[0].c_str());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen_keys.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(seen_keys, job_ids);
  EXPECT_GE(receiver.Count(), static_cast<size_t>(kJobs));  // re-deliveries after the kill
  EXPECT_EQ(QueryValue(dsn, "SELECT count(*) FROM action_results"), std::to_string(kJobs));
  std::printf("[ metrics  ] %zu requests for %d jobs (%zu re-deliveries after kill -9)\n",
              receiver.Count(), kJobs, receiver.Count() - kJobs);
}

TEST(JobsCommand, ListsDeadLettersAndReplaysThem) {
  std::string dsn = CreateMigratedDatabase();
  std::string home = GetServices().home + "/jobs-" + RandomHex(4);
  std::string org = CreateOrganizationWithOwner(dsn);
  std::string trigger =
      QueryValue(dsn, "INSERT INTO triggers (organization_id, name, registry) VALUES ('" + org +
                          "', 't', 'identity') RETURNING id");
  std::string job = QueryValue(
      dsn,
      "INSERT INTO action_jobs (trigger_id, event_id, action_type, config, event_data, "
      "status, attempts, last_error, last_status_code) VALUES ('" +
          trigger +
          "', 'ev-1', 'webhook', '{}', '{}', 'dead', 5, 'unexpected HTTP status 500', 500) "
          "RETURNING id");
  std::vector<std::string> base = {AuriBinary(), "--set", "general.home=" + home, "--set",
                                   "postgres.dsn=" + dsn};
  auto list_argv = base;
  list_argv.insert(list_argv.end(), {"jobs", "dead-letters", "--trigger", trigger, "--json"});
  auto listed = RunCommand(list_argv, "", seconds(30));
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->exit_code, 0) << listed->output;
  auto j = nlohmann::json::parse(listed->output);
  ASSERT_EQ(j.size(), 1u) << listed->output;
  EXPECT_EQ(j[0]["id"], job);
  EXPECT_EQ(j[0]["last_status_code"], 500);

  auto replay_argv = base;
  replay_argv.insert(replay_argv.end(), {"jobs", "replay", job});
  auto replayed = RunCommand(replay_argv, "", seconds(30));
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(replayed->exit_code, 0) << replayed->output;
  EXPECT_EQ(
      QueryValue(dsn, "SELECT status || ':' || attempts FROM action_jobs WHERE id = '" + job + "'"),
      "pending:0");
  // Replaying it again fails: it is no longer a dead letter.
  auto again = RunCommand(replay_argv, "", seconds(30));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->exit_code, 0);
  EXPECT_NE(again->output.find("is not a dead letter"), std::string::npos) << again->output;
}

}  // namespace
}  // namespace auri::testing
