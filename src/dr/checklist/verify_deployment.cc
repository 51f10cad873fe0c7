#include "dr/checklist/verify_deployment.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/probe_chain.h"
#include "common/random.h"
#include "dr/checklist/http_call.h"
#include "dr/checklist/webhook_receiver.h"
#include "store/manifest_repository.h"
#include "store/probe_repository.h"

namespace auri::dr {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kCallTimeout{5000};

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Polls `condition` every 50 ms until it holds or `limit` passes.
template <typename F>
bool WaitFor(F condition, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

nlohmann::json ParseOrNull(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string Brief(const Result<HttpReply>& r) {
  if (!r.ok()) return r.status().message();
  std::string body = r->body.substr(0, 160);
  return "HTTP " + std::to_string(r->status) + " " + body;
}

// The value of an unlabeled Prometheus sample "name value", or -1 when absent.
double MetricValue(const std::string& text, const std::string& name) {
  size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    bool line_start = pos == 0 || text[pos - 1] == '\n';
    size_t after = pos + name.size();
    if (line_start && after < text.size() && text[after] == ' ') {
      return std::strtod(text.c_str() + after + 1, nullptr);
    }
    pos = after;
  }
  return -1;
}

class Run {
 public:
  explicit Run(const VerifyOptions& o) : o_(o) {}

  std::vector<CheckRow> Execute() {
    CheckApiHealth();
    CheckDatabase();
    CheckAuthentication();
    CheckTriggers();
    CheckEventProcessing();
    CheckActionWorkers();
    CheckRateLimiting();
    CheckMonitoring();
    Cleanup();
    return rows_;
  }

 private:
  void Add(std::string name, bool passed, std::string detail, std::string hint,
           Clock::time_point start) {
    rows_.push_back(
        {std::move(name), passed, std::move(detail), passed ? "" : std::move(hint), Since(start)});
  }

  Result<HttpReply> Api(const std::string& method, const std::string& path,
                        const std::string& body = "", bool as_probe = true) {
    std::vector<std::string> headers;
    if (as_probe && !token_.empty()) {
      headers.push_back("Authorization: Bearer " + token_);
      if (!org_id_.empty()) headers.push_back("X-Organization-ID: " + org_id_);
    }
    Result<HttpReply> r = HttpCall(method, o_.api_url + path, headers, body, kCallTimeout);
    if (r.ok() && r->Header("x-ratelimit-limit") != "")
      last_rate_limit_ = r->Header("x-ratelimit-limit");
    return r;
  }

  void CheckApiHealth() {
    auto start = Clock::now();
    Result<HttpReply> r = HttpCall("GET", o_.api_url + "/health", {}, "", kCallTimeout);
    nlohmann::json body = r.ok() ? ParseOrNull(r->body) : nlohmann::json();
    if (body.is_object()) health_ = body;
    bool ok = r.ok() && r->status == 200;
    Add("api_health", ok,
        ok ? "status " + body.value("status", std::string("?")) + ", database " +
                 body.value("database", std::string("?")) + ", redis " +
                 body.value("redis", std::string("?"))
           : Brief(r),
        "is the api-gateway running? `auri status`; its log is under <home>/log", start);
    api_up_ = ok;
  }

  void CheckDatabase() {
    auto start = Clock::now();
    Status s = ProbeDatabaseReadWrite(*o_.pool, kCallTimeout);
    Add("database", s.ok(), s.ok() ? "committed write read back" : s.ToString(),
        "check PostgreSQL: `auri status`, its log under <home>/log, disk space", start);
  }

  void CheckAuthentication() {
    auto start = Clock::now();
    if (!api_up_) {
      Add("authentication", false, "skipped: api_health failed", "fix api_health first", start);
      return;
    }
    username_ = "auri-probe-" + RandomHex(6);
    std::string password = "Pr0be!" + RandomHex(12) + "xY";
    nlohmann::json reg = {
        {"username", username_}, {"email", username_ + "@probe.invalid"}, {"password", password}};
    Result<HttpReply> r = Api("POST", "/api/v1/auth/register", reg.dump(), false);
    nlohmann::json body = r.ok() ? ParseOrNull(r->body) : nlohmann::json();
    if (!r.ok() || r->status != 201 || !body.contains("token")) {
      Add("authentication", false, "register: " + Brief(r),
          "see the api-gateway log; is the jwt-signing-key secret readable?", start);
      return;
    }
    token_ = body["token"].get<std::string>();
    Result<HttpReply> me = Api("GET", "/api/v1/auth/me");
    nlohmann::json me_body = me.ok() ? ParseOrNull(me->body) : nlohmann::json();
    bool ok = me.ok() && me->status == 200 && me_body.contains("organizations") &&
              !me_body["organizations"].empty();
    if (ok) org_id_ = me_body["organizations"][0].value("id", std::string());
    Add("authentication", ok && !org_id_.empty(),
        ok ? "probe user registered; /auth/me lists its organization" : "me: " + Brief(me),
        "a token the gateway just issued was not accepted: check the jwt-signing-key ring", start);
  }

  void CheckTriggers() {
    auto start = Clock::now();
    Result<std::vector<ManifestTable>> now = ComputeManifest(*o_.pool, kCallTimeout);
    if (!now.ok()) {
      Add("triggers", false, now.status().ToString(), "the database must be readable", start);
      return;
    }
    std::string counts;
    for (const ManifestTable& t : *now) {
      if (t.table == "triggers" || t.table == "trigger_conditions" || t.table == "trigger_actions")
        counts += (counts.empty() ? "" : ", ") + t.table + " " + std::to_string(t.rows);
    }
    if (o_.manifest_json.empty()) {
      Add("triggers", true, counts + " (no manifest given)", "", start);
      return;
    }
    nlohmann::json manifest = ParseOrNull(o_.manifest_json);
    if (!manifest.is_object() || !manifest.contains("tables")) {
      Add("triggers", false, "the manifest file is not an auri manifest",
          "create one with `auri manifest create --out FILE`", start);
      return;
    }
    std::string differences;
    for (const ManifestTable& t : *now) {
      const nlohmann::json& want = manifest["tables"].value(t.table, nlohmann::json());
      if (!want.is_object()) continue;
      // The probe user registered above adds one user, one organization and one membership.
      int64_t probe_rows =
          (t.table == "users" || t.table == "organizations" || t.table == "organization_members") &&
                  !token_.empty()
              ? 1
              : 0;
      bool same_rows = want.value("rows", int64_t{-1}) + probe_rows == t.rows;
      bool same_sum = probe_rows > 0 || want.value("checksum", std::string()) == t.checksum;
      if (!same_rows || !same_sum) {
        differences += (differences.empty() ? "" : "; ") + t.table + ": rows " +
                       std::to_string(t.rows - probe_rows) + " vs " +
                       std::to_string(want.value("rows", int64_t{-1})) +
                       (same_sum ? "" : ", checksum differs");
      }
    }
    Add("triggers", differences.empty(),
        differences.empty() ? counts + "; manifest matches" : differences,
        "the configuration differs from the manifest: restore to an earlier point or compare "
        "the tables named",
        start);
  }

  void CheckEventProcessing() {
    auto start = Clock::now();
    if (org_id_.empty()) {
      Add("event_processing", false, "skipped: authentication failed", "fix authentication first",
          start);
      return;
    }
    if (Status s = receiver_.Start(); !s.ok()) {
      Add("event_processing", false, s.ToString(), "a loopback port is needed", start);
      return;
    }
    // A random agent id nobody else uses, so only the probe trigger matches the probe event.
    std::string hex = RandomHex(7);
    int64_t agent = static_cast<int64_t>(std::stoull(hex, nullptr, 16)) + 1'000'000'000'000LL;
    nlohmann::json trigger = {
        {"name", "auri verify probe"},
        {"registry", "reputation"},
        {"chain_id", kProbeChainId},
        {"conditions", {{{"condition_type", "agent_id_equals"}, {"value", std::to_string(agent)}}}},
        {"actions",
         {{{"action_type", "webhook"},
           {"config",
            {{"url", "http://127.0.0.1:" + std::to_string(receiver_.port()) + "/auri-probe"}}}}}}};
    Result<HttpReply> created = Api("POST", "/api/v1/triggers", trigger.dump());
    nlohmann::json body = created.ok() ? ParseOrNull(created->body) : nlohmann::json();
    if (!created.ok() || created->status != 201) {
      Add("event_processing", false, "creating the probe trigger: " + Brief(created),
          "the api-gateway refused the probe trigger (see its log)", start);
      return;
    }
    trigger_id_ = body["data"].value("id", std::string());
    metric_before_ = ScrapeIngested();
    // Block time a little ahead: triggers ignore events older than themselves.
    int64_t ts = static_cast<int64_t>(std::time(nullptr)) + 2;
    std::string tx_hash = "0x" + RandomHex(32);
    event_id_ = "reputation-" + std::to_string(kProbeChainId) + "-" + tx_hash + "-0";
    nlohmann::json event = {{"chain_id", kProbeChainId},
                            {"block_number", 1},
                            {"block_hash", nullptr},
                            {"transaction_hash", tx_hash},
                            {"log_index", 0},
                            {"registry", "reputation"},
                            {"event_type", "NewFeedback"},
                            {"agent_id", agent},
                            {"timestamp", ts},
                            {"client_address", "0x" + RandomHex(20)},
                            {"feedback_index", 1},
                            {"score", 50}};
    Result<HttpReply> sent =
        HttpCall("POST", o_.api_url + "/api/v1/events",
                 {"Authorization: Bearer " + o_.ingest_token}, event.dump(), kCallTimeout);
    if (!sent.ok() || sent->status != 202) {
      Add("event_processing", false, "ingesting the probe event: " + Brief(sent),
          "ingestion refused the probe event (ingest token? database?)", start);
      return;
    }
    int64_t jobs = 0;
    bool ok = WaitFor(
        [&] {
          Result<int64_t> n = CountJobsForTrigger(*o_.pool, trigger_id_, kCallTimeout);
          jobs = n.ok() ? *n : 0;
          return jobs > 0;
        },
        o_.wait);
    processed_ = ok;
    Add("event_processing", ok,
        ok ? "probe event → " + std::to_string(jobs) + " job in " +
                 std::to_string(static_cast<int>(Since(start) * 1000)) + " ms"
           : "no job for the probe event within " + std::to_string(o_.wait.count() / 1000) + " s",
        "is the event-processor running? `auri status`; check auri_processing_lag_seconds on its "
        "/metrics and its log",
        start);
  }

  void CheckActionWorkers() {
    auto start = Clock::now();
    if (!processed_) {
      Add("action_workers", false, "skipped: no probe job to deliver", "fix event_processing first",
          start);
      return;
    }
    bool ok = WaitFor([&] { return !receiver_.Matching(event_id_).empty(); }, o_.wait);
    Add("action_workers", ok,
        ok ? "probe webhook received in " + std::to_string(static_cast<int>(Since(start) * 1000)) +
                 " ms"
           : "the probe webhook did not arrive within " + std::to_string(o_.wait.count() / 1000) +
                 " s",
        "are the action-workers running? `auri status`; `auri jobs dead-letters`; loopback "
        "destinations need delivery.allow_private_destinations",
        start);
  }

  void CheckRateLimiting() {
    auto start = Clock::now();
    if (token_.empty()) {
      Add("rate_limiting", false, "skipped: authentication failed", "fix authentication first",
          start);
      return;
    }
    Result<HttpReply> r = Api("GET", "/api/v1/triggers?limit=1");
    std::string limit = r.ok() ? r->Header("x-ratelimit-limit") : "";
    std::string remaining = r.ok() ? r->Header("x-ratelimit-remaining") : "";
    bool redis = health_.value("redis", std::string()) == "connected";
    bool ok = !limit.empty() && !remaining.empty();
    Add("rate_limiting", ok,
        ok ? "limit " + limit + "/h, remaining " + remaining +
                 (redis ? " (counted in Redis)" : " (degraded: in-process limiter, Redis down)")
           : "no X-RateLimit headers: " + Brief(r),
        "the gateway's rate limiter is not running", start);
  }

  double ScrapeIngested() {
    Result<HttpReply> m = HttpCall("GET", o_.api_url + "/metrics", {}, "", kCallTimeout);
    return m.ok() ? MetricValue(m->body, "auri_events_ingested_total") : -1;
  }

  void CheckMonitoring() {
    auto start = Clock::now();
    if (event_id_.empty()) {
      Add("monitoring", false, "skipped: no probe event was ingested", "fix event_processing first",
          start);
      return;
    }
    double after = ScrapeIngested();
    bool ok = after >= 0 && after >= metric_before_ + 1;
    Add("monitoring", ok,
        "auri_events_ingested_total " + std::to_string(static_cast<int64_t>(metric_before_)) +
            " → " + std::to_string(static_cast<int64_t>(after)),
        "/metrics did not count the probe event (several gateways behind a balancer count "
        "separately)",
        start);
  }

  void Cleanup() {
    receiver_.Stop();
    if (!trigger_id_.empty()) (void)Api("DELETE", "/api/v1/triggers/" + trigger_id_);
    if (!username_.empty()) {
      (void)DeleteProbeData(*o_.pool, username_, event_id_, kCallTimeout);
    }
  }

  const VerifyOptions& o_;
  std::vector<CheckRow> rows_;
  nlohmann::json health_ = nlohmann::json::object();
  bool api_up_ = false;
  bool processed_ = false;
  std::string username_, token_, org_id_, trigger_id_, event_id_, last_rate_limit_;
  double metric_before_ = -1;
  WebhookReceiver receiver_;
};

}  // namespace

std::vector<CheckRow> VerifyDeployment(const VerifyOptions& options) {
  return Run(options).Execute();
}

}  // namespace auri::dr
