// Exactly-once evaluation under crashes, with the real `auri event-processor` binary: events are
// inserted in rounds, the processor is SIGKILLed at random points of each round and restarted,
// and afterwards every event was evaluated exactly once — the queue is empty, the checkpoints
// sum to the number of events, an EMA's sample count equals the number of events, and the
// number of action jobs equals the count computed here from the events' scores.
//
// Default: 10,000 events, 20 kills. AURI_LONG_TESTS=1: 10,000 events, 60 kills.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <random>

#include "store/event_repository.h"
#include "store/pool.h"
#include "tests/integration/processor/processor_test_util.h"

namespace auri {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kTriggers = 100;
constexpr int kEmaWindow = 10;

bool LongTests() {
  const char* v = std::getenv("AURI_LONG_TESTS");
  return v && std::string(v) == "1";
}

int ScoreOf(int i) { return (i * 37) % 101; }
int ActionsOf(int t) { return 1 + t % 3; }

class ExactlyOnceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = testing::CreateMigratedDatabase();
    pool_ = std::make_unique<ConnectionPool>(PoolOptions{.dsn = dsn_, .size = 2});
    std::string org = testing::CreateOrganization(dsn_, "exactly-once");
    // Trigger t fires for the score t (every event matches one trigger, except score 100) and has
    // 1..3 actions.
    for (int t = 0; t < kTriggers; ++t) {
      testing::TriggerSpec spec;
      spec.name = "score-" + std::to_string(t);
      std::string id = testing::CreateTrigger(dsn_, org, spec);
      testing::AddCondition(dsn_, id, "event_type_equals", "", "NewFeedback");
      testing::AddCondition(dsn_, id, "score_threshold", "=", std::to_string(t));
      for (int a = 0; a < ActionsOf(t); ++a) {
        testing::AddWebhookAction(dsn_, id, 10 - a,
                                  "https://example.com/hook/" + std::to_string(t));
      }
    }
    // A stateful trigger that never fires: its EMA's sample count is the number of evaluations.
    testing::TriggerSpec ema;
    ema.name = "ema-counter";
    ema.stateful = true;
    ema_trigger_ = testing::CreateTrigger(dsn_, org, ema);
    ema_condition_ = testing::AddCondition(dsn_, ema_trigger_, "ema_threshold", ">", "1000",
                                           "{\"window_size\": " + std::to_string(kEmaWindow) + "}");
    base_time_ = static_cast<int64_t>(std::time(nullptr)) - 86400;
  }

  void InsertRange(int from, int to) {
    std::vector<pipeline::Event> batch;
    for (int i = from; i < to; ++i) {
      batch.push_back(
          testing::FeedbackEvent(static_cast<uint64_t>(i), i % 50, ScoreOf(i), base_time_ + i));
      if (batch.size() == 1000 || i + 1 == to) {
        auto r = InsertEvents(*pool_, batch, milliseconds(10000));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        ASSERT_EQ(r->accepted, static_cast<int64_t>(batch.size()));
        batch.clear();
      }
    }
  }

  static int64_t ExpectedJobs(int events) {
    int64_t jobs = 0;
    for (int i = 0; i < events; ++i) {
      for (int t = 0; t < kTriggers; ++t) {
        if (ScoreOf(i) == t) jobs += ActionsOf(t);
      }
    }
    return jobs;
  }

  static double ExpectedEma(int events) {
    double alpha = 2.0 / (kEmaWindow + 1);
    double ema = 0;
    for (int i = 0; i < events; ++i)
      ema = i == 0 ? ScoreOf(i) : alpha * ScoreOf(i) + (1 - alpha) * ema;
    return ema;
  }

  int64_t Processed() {
    return testing::QueryInt(
        dsn_, "SELECT coalesce(sum(events_processed), 0) FROM event_processor_checkpoints");
  }

  bool WaitQueueEmpty(seconds timeout) {
    return testing::PollUntil(
        timeout, [&] { return testing::QueryInt(dsn_, "SELECT count(*) FROM event_queue") == 0; });
  }

  void ExpectEveryEventEvaluatedOnce(int events) {
    EXPECT_EQ(testing::QueryInt(dsn_, "SELECT count(*) FROM event_queue"), 0);
    EXPECT_EQ(testing::QueryInt(dsn_,
                                "SELECT coalesce(sum(events_processed), 0) FROM "
                                "event_processor_checkpoints"),
              events);
    EXPECT_EQ(testing::QueryInt(dsn_,
                                "SELECT (state->>'count')::bigint FROM trigger_state "
                                "WHERE condition_id = '" +
                                    ema_condition_ + "'"),
              events);
    EXPECT_EQ(testing::QueryInt(dsn_, "SELECT count(*) FROM action_jobs"), ExpectedJobs(events));
    // Every job belongs to an event with its trigger's score.
    EXPECT_EQ(testing::QueryInt(
                  dsn_,
                  "SELECT count(*) FROM action_jobs j JOIN triggers t ON t.id = j.trigger_id "
                  "WHERE (j.event_data->>'score')::int <> substr(t.name, 7)::int"),
              0);
  }

  std::string dsn_;
  std::unique_ptr<ConnectionPool> pool_;
  std::string ema_trigger_;
  std::string ema_condition_;
  int64_t base_time_ = 0;
};

TEST_F(ExactlyOnceTest, SigkillAtRandomPointsNeitherLosesNorRepeatsAnEvaluation) {
  const int events = 10000;
  const int kills = LongTests() ? 60 : 20;
  const int per_round = events / kills;
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(0, 400);
  std::string log = testing::GetServices().home + "/exactly-once-processor.log";

  int killed_mid_work = 0;
  int inserted = 0;
  for (int k = 0; k < kills; ++k) {
    int to = k + 1 == kills ? events : inserted + per_round;
    InsertRange(inserted, to);
    inserted = to;
    int64_t before = Processed();
    testing::ProcessorProcess p(dsn_, log);
    p.Start();
    // Odd rounds: a random point from the spawn on (start-up included). Even rounds: a random
    // point shortly after the first batch of this run committed, i.e. inside the processing,
    // however long the start-up takes (slow under sanitizers).
    if (k % 2 == 0) {
      ASSERT_TRUE(testing::PollUntil(seconds(30), [&] { return Processed() > before; }))
          << TailOfFile(log, 20);
      std::this_thread::sleep_for(milliseconds(delay_ms(rng) / 4));
    } else {
      std::this_thread::sleep_for(milliseconds(delay_ms(rng)));
    }
    p.Kill();
    // Killed in the middle of the work: it had committed batches and had more to do.
    if (Processed() > before && testing::QueryInt(dsn_, "SELECT count(*) FROM event_queue") > 0) {
      ++killed_mid_work;
    }
  }
  std::printf(
      "[ info ] %d kills, %d of them after some batches committed and before the queue "
      "was empty\n",
      kills, killed_mid_work);
  ASSERT_EQ(inserted, events);

  testing::ProcessorProcess last(dsn_, log);
  last.Start();
  ASSERT_TRUE(WaitQueueEmpty(seconds(180))) << TailOfFile(log, 20);
  EXPECT_EQ(last.Terminate(), "exited with code 0");

  ExpectEveryEventEvaluatedOnce(events);
  double ema = std::stod(testing::QueryValue(
      dsn_,
      "SELECT state->>'ema' FROM trigger_state WHERE condition_id = '" + ema_condition_ + "'"));
  EXPECT_NEAR(ema, ExpectedEma(events), 1e-6);
  // The kills must have hit the processor while it had work, or the test proves nothing.
  EXPECT_GE(killed_mid_work, kills / 4);
}

TEST_F(ExactlyOnceTest, TwoProcessorsAtOnceGiveTheSameResultInIngestionOrder) {
  const int events = 10000;
  InsertRange(0, events);
  std::string log = testing::GetServices().home + "/two-processors.log";
  testing::ProcessorProcess a(dsn_, log), b(dsn_, log);
  a.Start();
  b.Start();
  ASSERT_TRUE(WaitQueueEmpty(seconds(180))) << TailOfFile(log, 20);
  EXPECT_EQ(a.Terminate(), "exited with code 0");
  EXPECT_EQ(b.Terminate(), "exited with code 0");

  ExpectEveryEventEvaluatedOnce(events);
  // The EMA is order-dependent: equal to the sequential value only if the stateful trigger saw
  // the events in ingestion order although two processors shared the work.
  double ema = std::stod(testing::QueryValue(
      dsn_,
      "SELECT state->>'ema' FROM trigger_state WHERE condition_id = '" + ema_condition_ + "'"));
  EXPECT_NEAR(ema, ExpectedEma(events), 1e-6);
  std::printf("[ info ] checkpoints: %s\n",
              testing::QueryValue(dsn_,
                                  "SELECT string_agg(events_processed::text, ', ') FROM "
                                  "event_processor_checkpoints")
                  .c_str());
}

}  // namespace
}  // namespace auri
