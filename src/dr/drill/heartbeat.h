#pragma once
// The drills' heartbeat writer (spec 40-dr.md, "Drills": RPO is measured from data, not config).
// One thread commits one heartbeat every `interval` through the API's normal write path — POST
// /api/v1/events with the deployment's ingest token, i.e. one ingest transaction, exactly what an
// indexer does — and records each attempt: its sequence number, when it was sent and, when the
// gateway answered 202 (committed), when that acknowledgement arrived.
//
// A heartbeat is an identity-registry MetadataSet event on the probe chain (common/probe_chain.h:
// no real chain, and only triggers naming it see it), agent 8004, key "auri.drill.heartbeat";
// block_number is the sequence number, the transaction hash is the run's 32-hex id followed by the
// sequence number, and the value carries both plus the send time. So the heartbeats present in a
// restored database can be listed with one query, and another run's heartbeats never count.
//
// The measurements (pure functions below) turn attempts + the heartbeats found after recovery
// into RPO and RTO.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/probe_chain.h"
#include "common/result.h"

namespace auri::dr {

inline constexpr int64_t kHeartbeatChainId = kProbeChainId;
inline constexpr int64_t kHeartbeatAgentId = 8004;
inline constexpr const char* kHeartbeatKey = "auri.drill.heartbeat";

struct HeartbeatAttempt {
  int64_t seq = 0;
  int64_t sent_us = 0;   // unix microseconds when the request was sent
  int64_t acked_us = 0;  // unix microseconds of the 202; 0 = not acknowledged
  int status = 0;        // HTTP status, 0 when no answer came
};

// The event body of heartbeat `seq` of run `run_hex` (32 lowercase hex characters).
std::string HeartbeatEventJson(const std::string& run_hex, int64_t seq, int64_t sent_us);

// SQL listing the sequence numbers of run `run_hex`'s heartbeats present in a database.
// REQUIRES: run_hex is 32 lowercase hex characters (it is spliced into the statement).
std::string HeartbeatSeqQuery(const std::string& run_hex);

struct HeartbeatOptions {
  std::string api_url;  // gateway base URL, "http://127.0.0.1:8480"
  std::string ingest_token;
  std::string run_hex;  // 32 lowercase hex characters, unique per drill run
  std::chrono::milliseconds interval{100};
  // Per request: short, so an outage is seen as failed attempts every interval, which bounds the
  // RTO measurement's resolution.
  std::chrono::milliseconds request_timeout{1000};
};

class HeartbeatWriter {
 public:
  explicit HeartbeatWriter(HeartbeatOptions options) : o_(std::move(options)) {}
  ~HeartbeatWriter() { Stop(); }
  HeartbeatWriter(const HeartbeatWriter&) = delete;
  HeartbeatWriter& operator=(const HeartbeatWriter&) = delete;

  // Starts the thread (once). Attempts are sent on a fixed schedule; one that is slower than the
  // interval delays the next, never skips a sequence number.
  void Start();
  // Stops and joins the thread (idempotent; waits for the request in flight, ≤ request_timeout).
  void Stop();

  // A copy of every attempt so far, in sequence order. Thread-safe.
  std::vector<HeartbeatAttempt> Attempts() const;

  // Waits until an attempt sent at or after `sent_after_us` is acknowledged and returns it.
  // Errors: kDeadlineExceeded after `timeout`.
  Result<HeartbeatAttempt> WaitForAck(int64_t sent_after_us,
                                      std::chrono::milliseconds timeout) const;

 private:
  void Loop();

  HeartbeatOptions o_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<HeartbeatAttempt> attempts_;
};

// What a disaster cost, measured from heartbeats.
struct HeartbeatLoss {
  int64_t acknowledged_before = 0;  // attempts acknowledged before the disaster
  int64_t lost = 0;                 // of those, missing after recovery
  int64_t newest_acknowledged_seq = -1;
  int64_t newest_present_seq = -1;  // newest present heartbeat sent before the disaster
  // Send time of the newest acknowledged heartbeat before the disaster minus that of the newest
  // present one, in seconds; 0 when nothing acknowledged was lost; nullopt when nothing was
  // acknowledged before the disaster (nothing to measure).
  std::optional<double> rpo_seconds;
};

// `present` holds the sequence numbers found in the recovered database.
HeartbeatLoss MeasureLoss(const std::vector<HeartbeatAttempt>& attempts, int64_t disaster_us,
                          const std::set<int64_t>& present);

// RTO: the first acknowledgement of an attempt sent at or after `serving_from_us` (the moment from
// which only the recovered deployment can answer), minus the disaster; nullopt when none came.
std::optional<double> MeasureRto(const std::vector<HeartbeatAttempt>& attempts, int64_t disaster_us,
                                 int64_t serving_from_us);

// Point-in-time exactness against target `target_us`: heartbeats acknowledged before the target
// that are missing (commit < ack < target: must be there) and heartbeats present that were sent
// after it (commit > send > target: must not be). Both 0 when the restore was exact.
struct PitrExactness {
  int64_t missing_before_target = 0;
  int64_t present_after_target = 0;
  int64_t checked = 0;  // attempts whose side of the target is known
};
PitrExactness CheckPitrExactness(const std::vector<HeartbeatAttempt>& attempts, int64_t target_us,
                                 const std::set<int64_t>& present);

// Unix microseconds now (system clock: comparable with PostgreSQL's clock_timestamp() on the same
// host, which a time target needs).
int64_t UnixMicrosNow();

}  // namespace auri::dr
