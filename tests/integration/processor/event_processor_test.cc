// The event-processor against a real PostgreSQL: the "done when" scenario of issue 4 with the real
// binary (woken by NOTIFY, not by polling), the circuit breaker through its whole cycle on a real
// evaluation error, per-condition EMA and rate state across restarts, and back pressure.
#include "processor/event_processor.h"

#include <gtest/gtest.h>

#include <ctime>

#include "common/clock.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "store/event_repository.h"
#include "store/pool.h"
#include "tests/integration/processor/processor_test_util.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class EventProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = testing::CreateMigratedDatabase();
    pool_ = std::make_unique<ConnectionPool>(PoolOptions{.dsn = dsn_, .size = 3});
    org_ = testing::CreateOrganization(dsn_, "processor");
    now_ = static_cast<int64_t>(std::time(nullptr));
  }

  void Insert(const std::vector<pipeline::Event>& events) {
    auto r = InsertEvents(*pool_, events, milliseconds(5000));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // An in-process processor; destroying it and making a new one is a restart (all state is in
  // the database).
  std::unique_ptr<EventProcessor> NewProcessor() {
    EventProcessorOptions o;
    o.processor_id = "test";
    metrics_ = std::make_unique<MetricsRegistry>();
    auto p = std::make_unique<EventProcessor>(*pool_, o, log_, *metrics_, clock_);
    Status s = p->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return p;
  }

  int64_t Drain(EventProcessor& p) {
    Result<int64_t> n = p.Drain();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  std::string Breaker(const std::string& trigger) {
    return testing::QueryValue(dsn_,
                               "SELECT cb_state || ' ' || cb_failure_count FROM triggers "
                               "WHERE id = '" +
                                   trigger + "'");
  }

  std::string dsn_;
  std::unique_ptr<ConnectionPool> pool_;
  std::string org_;
  int64_t now_ = 0;
  Logger log_{2, "test", LogLevel::kWarn};
  SystemClock clock_;
  std::unique_ptr<MetricsRegistry> metrics_;
};

// Issue 4, "Done when": a trigger (score < 60 on reputation NewFeedback), one matching and one
// non-matching event → exactly one job, carrying snapshots of the action config and the event.
TEST_F(EventProcessorTest, DoneWhenMatchingAndNonMatchingEventGiveExactlyOneJob) {
  testing::TriggerSpec spec;
  spec.created_at = "now";
  std::string trigger = testing::CreateTrigger(dsn_, org_, spec);
  testing::AddCondition(dsn_, trigger, "event_type_equals", "", "NewFeedback");
  testing::AddCondition(dsn_, trigger, "score_threshold", "<", "60");
  std::string action = testing::AddWebhookAction(dsn_, trigger, 0, "https://example.com/low");

  // A long poll interval: only LISTEN new_event can wake it within the deadline below.
  testing::ProcessorProcess p(dsn_, testing::GetServices().home + "/done-when.log",
                              {"--set", "processor.poll_interval_ms=60000"});
  p.Start();
  p.WaitHealthy();
  // Block times after the trigger's creation (older events are skipped by design).
  pipeline::Event low = testing::FeedbackEvent(1, 7, 40, now_ + 5);
  pipeline::Event high = testing::FeedbackEvent(2, 7, 80, now_ + 6);
  Insert({low, high});

  ASSERT_TRUE(testing::PollUntil(seconds(15), [&] {
    return testing::QueryInt(dsn_, "SELECT count(*) FROM event_queue") == 0;
  })) << TailOfFile(p.log_file(), 20);
  EXPECT_EQ(testing::QueryValue(dsn_,
                                "SELECT count(*) || ' ' || min(event_id) || ' ' || "
                                "min(action_id::text) || ' ' || min(status) FROM action_jobs"),
            "1 " + low.id + " " + action + " pending");
  EXPECT_EQ(testing::QueryValue(dsn_,
                                "SELECT (event_data->>'score') || ' ' || (config->>'url') "
                                "FROM action_jobs"),
            "40 https://example.com/low");
  std::string metrics = p.Metrics();
  EXPECT_NE(metrics.find("\nauri_events_evaluated_total 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nauri_events_matched_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nauri_action_jobs_created_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("auri_processor_stage_duration_seconds_count{stage=\"commit\"}"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(p.Terminate(), "exited with code 0");
}

TEST_F(EventProcessorTest, EventsOlderThanTheTriggerAreSkipped) {
  testing::TriggerSpec spec;
  spec.created_at = "now";
  std::string trigger = testing::CreateTrigger(dsn_, org_, spec);
  testing::AddWebhookAction(dsn_, trigger, 0, "https://example.com/all");
  auto p = NewProcessor();
  Insert(
      {testing::FeedbackEvent(1, 7, 40, now_ - 3600), testing::FeedbackEvent(2, 7, 40, now_ + 5)});
  EXPECT_EQ(Drain(*p), 2);
  EXPECT_EQ(testing::QueryValue(dsn_,
                                "SELECT string_agg(event_data->>'timestamp', ',') FROM "
                                "action_jobs"),
            std::to_string(now_ + 5));
}

TEST_F(EventProcessorTest, ActionsBecomeJobsInPriorityOrderWithConfigSnapshots) {
  std::string trigger = testing::CreateTrigger(dsn_, org_, {});
  testing::AddWebhookAction(dsn_, trigger, 5, "https://example.com/second");
  testing::AddWebhookAction(dsn_, trigger, 1, "https://example.com/first");
  auto p = NewProcessor();
  Insert({testing::FeedbackEvent(1, 7, 40, now_)});
  EXPECT_EQ(Drain(*p), 1);
  // Editing the action afterwards does not change the job already created.
  testing::ExecSql(dsn_, "UPDATE trigger_actions SET config = '{\"url\": \"https://changed\"}'");
  EXPECT_EQ(testing::QueryValue(dsn_,
                                "SELECT string_agg(priority || '=' || (config->>'url'), ' ' "
                                "ORDER BY priority) FROM action_jobs"),
            "1=https://example.com/first 5=https://example.com/second");
}

// A real evaluation error: a stateful condition stored on a trigger that is not stateful (the
// API refuses it; the database cannot) does not compile, so every evaluation is a failure.
TEST_F(EventProcessorTest, CircuitBreakerOpensHalfOpensAndClosesOnRealEvaluationErrors) {
  testing::TriggerSpec spec;
  spec.failure_threshold = 3;
  spec.recovery_timeout_seconds = 60;
  std::string trigger = testing::CreateTrigger(dsn_, org_, spec);
  testing::AddCondition(dsn_, trigger, "ema_threshold", "<", "50", "{\"window_size\": 3}");
  testing::AddWebhookAction(dsn_, trigger, 0, "https://example.com/x");
  auto p = NewProcessor();

  // Failures across separate events (separate batches), each persisted at once.
  Insert({testing::FeedbackEvent(1, 7, 40, now_)});
  EXPECT_EQ(Drain(*p), 1);
  EXPECT_EQ(Breaker(trigger), "Closed 1");
  Insert({testing::FeedbackEvent(2, 7, 40, now_ + 1)});
  EXPECT_EQ(Drain(*p), 1);
  EXPECT_EQ(Breaker(trigger), "Closed 2");
  Insert({testing::FeedbackEvent(3, 7, 40, now_ + 2)});
  EXPECT_EQ(Drain(*p), 1);
  EXPECT_EQ(Breaker(trigger), "Open 3");
  EXPECT_EQ(testing::QueryValue(dsn_,
                                "SELECT cb_opened_at IS NOT NULL AND cb_last_failure_time "
                                "IS NOT NULL FROM triggers"),
            "t");

  // Open: the trigger is not evaluated (no new failure counted).
  Insert({testing::FeedbackEvent(4, 7, 40, now_ + 3)});
  EXPECT_EQ(Drain(*p), 1);
  EXPECT_EQ(Breaker(trigger), "Open 3");

  // After the recovery timeout: one trial (HalfOpen); it fails → Open again, with a new opened_at.
  testing::ExecSql(dsn_, "UPDATE triggers SET cb_opened_at = now() - interval '61 seconds'");
  Insert({testing::FeedbackEvent(5, 7, 40, now_ + 4)});
  EXPECT_EQ(Drain(*p), 1);
  EXPECT_EQ(Breaker(trigger), "Open 4");
  EXPECT_EQ(testing::QueryValue(dsn_,
                                "SELECT cb_opened_at > now() - interval '30 seconds' FROM "
                                "triggers"),
            "t");

  // Fix the trigger; after the timeout the trial succeeds (and matches) → Closed, count 0.
  testing::ExecSql(dsn_, "UPDATE triggers SET is_stateful = true");
  ASSERT_TRUE(p->ReloadTriggers().ok());
  testing::ExecSql(dsn_, "UPDATE triggers SET cb_opened_at = now() - interval '61 seconds'");
  Insert({testing::FeedbackEvent(6, 7, 40, now_ + 5)});
  EXPECT_EQ(Drain(*p), 1);
  EXPECT_EQ(Breaker(trigger), "Closed 0");
  EXPECT_EQ(testing::QueryInt(dsn_, "SELECT count(*) FROM action_jobs"), 1);
}

TEST_F(EventProcessorTest, EmaAndRateStatePerConditionSurviveRestarts) {
  testing::TriggerSpec spec;
  spec.stateful = true;
  std::string trigger = testing::CreateTrigger(dsn_, org_, spec);
  std::string ema = testing::AddCondition(dsn_, trigger, "ema_threshold", "<", "50",
                                          "{\"window_size\": 3}");  // alpha = 0.5
  std::string rate =
      testing::AddCondition(dsn_, trigger, "rate_limit", ">=", "2", "{\"time_window\": \"1h\"}");
  testing::AddWebhookAction(dsn_, trigger, 0, "https://example.com/x");
  // "ema count last_updated" and "count [timestamps]", compared as values (not JSON spelling).
  auto ema_state = [&] {
    return testing::QueryValue(dsn_,
                               "SELECT (state->>'ema')::float8 || ' ' || (state->>'count') "
                               "|| ' ' || (state->>'last_updated') FROM trigger_state WHERE "
                               "condition_id = '" +
                                   ema + "'");
  };
  auto rate_state = [&] {
    return testing::QueryValue(dsn_,
                               "SELECT (state->>'count') || ' ' || "
                               "(state->'recent_timestamps')::text FROM trigger_state WHERE "
                               "condition_id = '" +
                                   rate + "'");
  };
  const int64_t t0 = now_ - 600;

  // 40: ema 40 (< 50) → rate counts 1 (< 2): no match.
  auto p = NewProcessor();
  Insert({testing::FeedbackEvent(1, 7, 40, t0)});
  EXPECT_EQ(Drain(*p), 1);
  EXPECT_EQ(ema_state(), "40 1 " + std::to_string(t0));
  EXPECT_EQ(rate_state(), "1 [" + std::to_string(t0) + "]");

  // Restart. 80: ema 60 (not < 50) → the rate condition is not reached and keeps its state.
  p = NewProcessor();
  Insert({testing::FeedbackEvent(2, 7, 80, t0 + 10)});
  EXPECT_EQ(Drain(*p), 1);
  EXPECT_EQ(ema_state(), "60 2 " + std::to_string(t0 + 10));
  EXPECT_EQ(rate_state(), "1 [" + std::to_string(t0) + "]");

  // Restart. 20: ema 40 → rate 2 → match.
  p = NewProcessor();
  Insert({testing::FeedbackEvent(3, 7, 20, t0 + 20)});
  EXPECT_EQ(Drain(*p), 1);
  // Restart. 30: ema 35 → rate 3 → match.
  p = NewProcessor();
  Insert({testing::FeedbackEvent(4, 7, 30, t0 + 30)});
  EXPECT_EQ(Drain(*p), 1);
  EXPECT_EQ(ema_state(), "35 4 " + std::to_string(t0 + 30));
  EXPECT_EQ(rate_state(), "3 [" + std::to_string(t0) + ", " + std::to_string(t0 + 20) + ", " +
                              std::to_string(t0 + 30) + "]");
  EXPECT_EQ(testing::QueryValue(dsn_,
                                "SELECT string_agg(event_data->>'score', ',' ORDER BY "
                                "event_id) FROM action_jobs"),
            "20,30");
}

TEST_F(EventProcessorTest, BackPressureStopsClaimingUntilPendingJobsDrain) {
  std::string trigger = testing::CreateTrigger(dsn_, org_, {});
  testing::AddWebhookAction(dsn_, trigger, 0, "https://example.com/x");
  testing::ProcessorProcess p(dsn_, testing::GetServices().home + "/backpressure.log",
                              {"--set", "delivery.max_pending=3"});
  p.Start();
  p.WaitHealthy();
  Insert({testing::FeedbackEvent(1, 7, 40, now_), testing::FeedbackEvent(2, 7, 40, now_),
          testing::FeedbackEvent(3, 7, 40, now_), testing::FeedbackEvent(4, 7, 40, now_)});
  ASSERT_TRUE(testing::PollUntil(seconds(10), [&] {
    return testing::QueryInt(dsn_, "SELECT count(*) FROM action_jobs") == 4;
  }));
  // 4 pending > 3: the processor reports back pressure and leaves new events queued.
  ASSERT_TRUE(testing::PollUntil(seconds(10), [&] {
    return p.Metrics().find("\nauri_processor_backpressure 1\n") != std::string::npos;
  })) << p.Metrics();
  Insert({testing::FeedbackEvent(5, 7, 40, now_)});
  EXPECT_FALSE(testing::PollUntil(milliseconds(1500), [&] {
    return testing::QueryInt(dsn_, "SELECT count(*) FROM event_queue") == 0;
  }));
  // Delivery catches up → claiming resumes.
  testing::ExecSql(dsn_, "UPDATE action_jobs SET status = 'succeeded'");
  EXPECT_TRUE(testing::PollUntil(seconds(10), [&] {
    return testing::QueryInt(dsn_, "SELECT count(*) FROM event_queue") == 0;
  }));
  EXPECT_EQ(testing::QueryInt(dsn_, "SELECT count(*) FROM action_jobs"), 5);
  EXPECT_EQ(p.Terminate(), "exited with code 0");
}

TEST_F(EventProcessorTest, TriggerChangesReachTheRunningProcessorByNotify) {
  testing::ProcessorProcess p(dsn_, testing::GetServices().home + "/reload.log",
                              {"--set", "processor.trigger_reload_seconds=3600"});
  p.Start();
  p.WaitHealthy();
  std::string trigger = testing::CreateTrigger(dsn_, org_, {});
  testing::AddWebhookAction(dsn_, trigger, 0, "https://example.com/x");
  ASSERT_TRUE(testing::PollUntil(seconds(10), [&] {
    return p.Metrics().find("\nauri_processor_triggers 1\n") != std::string::npos;
  })) << p.Metrics();
  Insert({testing::FeedbackEvent(1, 7, 40, now_)});
  EXPECT_TRUE(testing::PollUntil(seconds(10), [&] {
    return testing::QueryInt(dsn_, "SELECT count(*) FROM action_jobs") == 1;
  }));
  EXPECT_EQ(p.Terminate(), "exited with code 0");
}

}  // namespace
}  // namespace auri
