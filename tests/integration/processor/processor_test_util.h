#pragma once
// Helpers for the event-processor's integration tests: organizations, triggers, conditions and
// actions written with plain SQL (the trigger API does not exist yet), valid reputation events,
// and running the real `auri event-processor` binary as a child process.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "pipeline/event.h"
#include "stack/net_probe.h"
#include "stack/postgres_server.h"
#include "stack/process.h"
#include "tests/integration/harness.h"
#include "tests/integration/store/store_test_util.h"

namespace auri::testing {

inline std::string SqlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// An organization with its owner (the schema requires exactly one), returns its id.
inline std::string CreateOrganization(const std::string& dsn, const std::string& slug) {
  return QueryValue(dsn,
                    "WITH u AS (INSERT INTO users (username, email, password_hash) VALUES (" +
                        SqlQuote("owner-" + slug) + ", " + SqlQuote(slug + "@example.com") +
                        ", 'x') RETURNING id), "
                        "o AS (INSERT INTO organizations (name, slug) VALUES (" +
                        SqlQuote(slug) + ", " + SqlQuote(slug) +
                        ") RETURNING id), "
                        "m AS (INSERT INTO organization_members (organization_id, user_id, role) "
                        "SELECT o.id, u.id, 'owner' FROM o, u) SELECT id::text FROM o");
}

struct TriggerSpec {
  std::string name = "t";
  std::string registry = "reputation";
  bool stateful = false;
  // Old enough that every test event (block times from 2024 on) passes the created_at guard.
  std::string created_at = "2020-01-01T00:00:00Z";
  int failure_threshold = 10;
  int recovery_timeout_seconds = 3600;
};

inline std::string CreateTrigger(const std::string& dsn, const std::string& org,
                                 const TriggerSpec& t) {
  return QueryValue(
      dsn,
      "INSERT INTO triggers (organization_id, name, registry, is_stateful, created_at, "
      "cb_failure_threshold, cb_recovery_timeout_seconds) VALUES (" +
          SqlQuote(org) + ", " + SqlQuote(t.name) + ", " + SqlQuote(t.registry) + ", " +
          (t.stateful ? "true" : "false") + ", " + SqlQuote(t.created_at) + ", " +
          std::to_string(t.failure_threshold) + ", " + std::to_string(t.recovery_timeout_seconds) +
          ") RETURNING id::text");
}

// Returns the condition id. `op` and `field` may be empty (NULL).
inline std::string AddCondition(const std::string& dsn, const std::string& trigger,
                                const std::string& type, const std::string& op,
                                const std::string& value, const std::string& config = "{}",
                                const std::string& field = "") {
  return QueryValue(dsn,
                    "INSERT INTO trigger_conditions (trigger_id, condition_type, field, operator, "
                    "value, config) VALUES (" +
                        SqlQuote(trigger) + ", " + SqlQuote(type) + ", " +
                        (field.empty() ? "NULL" : SqlQuote(field)) + ", " +
                        (op.empty() ? "NULL" : SqlQuote(op)) + ", " + SqlQuote(value) + ", " +
                        SqlQuote(config) + ") RETURNING id::text");
}

inline std::string AddWebhookAction(const std::string& dsn, const std::string& trigger,
                                    int priority, const std::string& url) {
  return QueryValue(dsn,
                    "INSERT INTO trigger_actions (trigger_id, action_type, priority, config) "
                    "VALUES (" +
                        SqlQuote(trigger) + ", 'webhook', " + std::to_string(priority) + ", " +
                        SqlQuote("{\"url\": \"" + url + "\"}") + ") RETURNING id::text");
}

inline std::string Hex(uint64_t v, int digits) {
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0 && v; --i, v >>= 4) out[i] = "0123456789abcdef"[v & 15];
  return out;
}

// A valid reputation/NewFeedback event; `n` makes the id unique.
inline pipeline::Event FeedbackEvent(uint64_t n, int64_t agent_id, int score, int64_t timestamp) {
  pipeline::Event e;
  e.chain_id = 11155111;
  e.block_number = 9000000 + static_cast<int64_t>(n);
  e.transaction_hash = "0x" + Hex(n + 1, 64);
  e.log_index = 0;
  e.registry = "reputation";
  e.event_type = "NewFeedback";
  e.agent_id = agent_id;
  e.timestamp = timestamp;
  e.client_address = "0x" + Hex(0xc0ffee, 40);
  e.feedback_index = static_cast<int64_t>(n);
  e.score = score;
  e.tag1 = "quality";
  e.id = pipeline::ComputeEventId(e.registry, e.chain_id, e.transaction_hash, e.log_index);
  return e;
}

inline int64_t QueryInt(const std::string& dsn, const std::string& sql) {
  std::string v = QueryValue(dsn, sql);
  return v.empty() ? 0 : std::stoll(v);
}

// The real `auri event-processor` binary against `dsn`.
class ProcessorProcess {
 public:
  ProcessorProcess(std::string dsn, std::string log_file, std::vector<std::string> extra = {})
      : dsn_(std::move(dsn)), log_file_(std::move(log_file)), extra_(std::move(extra)) {}
  ~ProcessorProcess() {
    if (pid_ > 0) (void)StopProcess(pid_, SIGKILL, std::chrono::seconds(5), true);
  }

  void Start() {
    port_ = FreePort();
    SpawnOptions spawn;
    spawn.argv = {AuriBinary(),
                  "--set",
                  "postgres.dsn=" + dsn_,
                  "--set",
                  "general.home=" + GetServices().home + "/processor-home",
                  "--set",
                  "processor.metrics_port=" + std::to_string(port_),
                  "--set",
                  "processor.poll_interval_ms=100"};
    spawn.argv.insert(spawn.argv.end(), extra_.begin(), extra_.end());
    spawn.argv.push_back("event-processor");
    spawn.log_file = log_file_;
    auto pid = Spawn(spawn);
    ASSERT_TRUE(pid.ok()) << pid.status().ToString();
    pid_ = *pid;
  }

  // Waits (bounded) until GET /health answers 200.
  void WaitHealthy() {
    bool ok = PollUntil(std::chrono::seconds(20), [&] {
      auto r = HttpGet("127.0.0.1", port_, "/health", std::chrono::milliseconds(500));
      return r.ok() && r->status == 200;
    });
    ASSERT_TRUE(ok) << "event-processor not healthy; log:\n" << TailOfFile(log_file_, 20);
  }

  std::string Metrics() {
    auto r = HttpGet("127.0.0.1", port_, "/metrics", std::chrono::milliseconds(2000));
    return r.ok() ? r->body : "";
  }

  void Kill() {
    ASSERT_EQ(::kill(pid_, SIGKILL), 0);
    auto st = WaitForExit(pid_, std::chrono::seconds(10));
    ASSERT_TRUE(st.ok());
    pid_ = -1;
  }

  // SIGTERM; returns the exit description ("exited with code 0" expected).
  std::string Terminate() {
    ::kill(pid_, SIGTERM);
    auto st = WaitForExit(pid_, std::chrono::seconds(20));
    if (!st.ok()) return "did not exit";
    pid_ = -1;
    return DescribeWaitStatus(*st);
  }

  int port() const { return port_; }
  const std::string& log_file() const { return log_file_; }

 private:
  std::string dsn_;
  std::string log_file_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace auri::testing
