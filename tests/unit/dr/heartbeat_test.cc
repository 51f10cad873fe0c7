// RPO, RTO and PITR exactness as computed from heartbeat attempts and the heartbeats found after
// recovery; the heartbeat event is a valid ingest event carrying its sequence number and time.
#include "dr/drill/heartbeat.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/event.h"

namespace auri::dr {
namespace {

// Attempt n sent at n·100 ms; acknowledged 10 ms later unless listed in `unacked`.
std::vector<HeartbeatAttempt> Attempts(int n, std::set<int64_t> unacked = {}) {
  std::vector<HeartbeatAttempt> out;
  for (int64_t i = 1; i <= n; ++i) {
    HeartbeatAttempt a;
    a.seq = i;
    a.sent_us = i * 100000;
    a.acked_us = unacked.count(i) ? 0 : a.sent_us + 10000;
    a.status = unacked.count(i) ? 0 : 202;
    out.push_back(a);
  }
  return out;
}

std::set<int64_t> Range(int64_t from, int64_t to) {
  std::set<int64_t> s;
  for (int64_t i = from; i <= to; ++i) s.insert(i);
  return s;
}

TEST(MeasureLoss, NothingLostIsRpoZero) {
  auto loss = MeasureLoss(Attempts(20), /*disaster_us=*/1'000'000, Range(1, 10));
  EXPECT_EQ(loss.acknowledged_before, 9);  // #10 is acknowledged at 1.01 s, after the disaster
  EXPECT_EQ(loss.lost, 0);
  ASSERT_TRUE(loss.rpo_seconds.has_value());
  EXPECT_DOUBLE_EQ(*loss.rpo_seconds, 0.0);
}

TEST(MeasureLoss, RpoIsTheTimeBetweenNewestAcknowledgedAndNewestPresent) {
  // Acknowledged #1..#30 before the disaster at 3.05 s; the restore holds #1..#18.
  auto loss = MeasureLoss(Attempts(40), 3'050'000, Range(1, 18));
  EXPECT_EQ(loss.acknowledged_before, 30);
  EXPECT_EQ(loss.lost, 12);
  EXPECT_EQ(loss.newest_acknowledged_seq, 30);
  EXPECT_EQ(loss.newest_present_seq, 18);
  EXPECT_NEAR(*loss.rpo_seconds, 1.2, 1e-9);
}

TEST(MeasureLoss, UnacknowledgedHeartbeatsNeverCountAsLost) {
  // #5 never got its 202 (timed out) and is missing: not an acknowledged write, not lost.
  auto loss = MeasureLoss(Attempts(10, {5}), 2'000'000, {1, 2, 3, 4, 6, 7, 8, 9, 10});
  EXPECT_EQ(loss.acknowledged_before, 9);
  EXPECT_EQ(loss.lost, 0);
  EXPECT_DOUBLE_EQ(*loss.rpo_seconds, 0.0);
}

TEST(MeasureLoss, HeartbeatsAfterTheDisasterAreIgnored) {
  // The recovered deployment accepts new heartbeats (#25..); they say nothing about the loss.
  auto present = Range(1, 12);
  for (int64_t i = 25; i <= 30; ++i) present.insert(i);
  auto loss = MeasureLoss(Attempts(30), 2'050'000, present);
  EXPECT_EQ(loss.newest_present_seq, 12);
  EXPECT_EQ(loss.lost, 8);
  EXPECT_NEAR(*loss.rpo_seconds, 0.8, 1e-9);
}

TEST(MeasureLoss, NothingAcknowledgedMeansNoMeasurement) {
  auto loss = MeasureLoss(Attempts(3, {1, 2, 3}), 10'000'000, {});
  EXPECT_FALSE(loss.rpo_seconds.has_value());
}

TEST(MeasureRto, FirstAcknowledgementFromTheRecoveredDeployment) {
  auto attempts = Attempts(100, [] {
    std::set<int64_t> down;
    for (int64_t i = 31; i <= 80; ++i) down.insert(i);  // the outage: 3.1 s .. 8.0 s
    return down;
  }());
  // Disaster at 3.05 s; the old services were gone at 7.5 s; #81 (sent 8.1 s) answers at 8.11 s.
  auto rto = MeasureRto(attempts, 3'050'000, 7'500'000);
  ASSERT_TRUE(rto.has_value());
  EXPECT_NEAR(*rto, 8.11 - 3.05, 1e-9);
}

TEST(MeasureRto, AcknowledgementsOfTheOldDeploymentDoNotCount) {
  // PITR: the damaged deployment keeps acknowledging until it is stopped at 6 s.
  auto rto = MeasureRto(Attempts(100), 3'000'000, 6'000'000);
  ASSERT_TRUE(rto.has_value());
  EXPECT_NEAR(*rto, 6.01 - 3.0, 1e-9);  // #60, sent at 6.0 s, is the first to count
  EXPECT_FALSE(MeasureRto(Attempts(100), 3'000'000, 10'500'000).has_value());
}

TEST(PitrExactness, ExactRestoreHasNoViolations) {
  // Target 2.0 s: #1..#19 acknowledged before it; #20 in flight (committed before: present).
  auto e = CheckPitrExactness(Attempts(40), 2'000'000, Range(1, 20));
  EXPECT_EQ(e.missing_before_target, 0);
  EXPECT_EQ(e.present_after_target, 0);
  EXPECT_EQ(e.checked, 39);  // #20 (sent at the target exactly, acked after) is on neither side
}

TEST(PitrExactness, CountsMissingAndExtraHeartbeats) {
  auto e = CheckPitrExactness(Attempts(40), 2'000'000, Range(1, 25));
  EXPECT_EQ(e.present_after_target, 5);  // #21..#25 were sent after the target
  auto m = CheckPitrExactness(Attempts(40), 2'000'000, Range(1, 15));
  EXPECT_EQ(m.missing_before_target, 4);  // #16..#19 were acknowledged before it
}

TEST(HeartbeatEvent, IsAValidEventCarryingSequenceAndTime) {
  const std::string run = "0123456789abcdef0123456789abcdef";
  std::string text = HeartbeatEventJson(run, 42, 1764131573123456);
  auto event = pipeline::ValidateEvent(text);
  ASSERT_TRUE(event.ok()) << event.status().ToString() << "\n" << text;
  EXPECT_EQ(event->block_number, 42);
  EXPECT_EQ(event->chain_id, kHeartbeatChainId);
  EXPECT_EQ(event->agent_id, kHeartbeatAgentId);
  EXPECT_EQ(event->transaction_hash, "0x" + run + std::string(30, '0') + "2a");
  EXPECT_EQ(*event->metadata_key, kHeartbeatKey);
  auto value = nlohmann::json::parse(*event->metadata_value);
  EXPECT_EQ(value["seq"], 42);
  EXPECT_EQ(value["sent_at"], "2025-11-26T04:32:53.123456Z");
  EXPECT_NE(HeartbeatSeqQuery(run).find("LIKE '0x" + run + "%'"), std::string::npos);
}

}  // namespace
}  // namespace auri::dr
