#include "dr/drill/heartbeat.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "dr/checklist/http_call.h"
#include "dr/restore/restore_instance.h"

namespace auri::dr {

int64_t UnixMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string HeartbeatEventJson(const std::string& run_hex, int64_t seq, int64_t sent_us) {
  char tail[40];
  std::snprintf(tail, sizeof tail, "%032" PRIx64, static_cast<uint64_t>(seq));
  nlohmann::json value = {{"run", run_hex}, {"seq", seq}, {"sent_at", FormatRfc3339(sent_us)}};
  nlohmann::json event = {{"chain_id", kHeartbeatChainId},
                          {"block_number", seq},
                          {"block_hash", nullptr},
                          {"transaction_hash", "0x" + run_hex + tail},
                          {"log_index", 0},
                          {"registry", "identity"},
                          {"event_type", "MetadataSet"},
                          {"agent_id", kHeartbeatAgentId},
                          {"timestamp", sent_us / 1000000},
                          {"metadata_key", kHeartbeatKey},
                          {"metadata_value", value.dump()}};
  return event.dump();
}

std::string HeartbeatSeqQuery(const std::string& run_hex) {
  return "SELECT block_number FROM events WHERE chain_id = " + std::to_string(kHeartbeatChainId) +
         " AND agent_id = " + std::to_string(kHeartbeatAgentId) +
         " AND registry = 'identity' AND metadata_key = '" + kHeartbeatKey +
         "' AND transaction_hash LIKE '0x" + run_hex + "%' ORDER BY 1";
}

void HeartbeatWriter::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void HeartbeatWriter::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<HeartbeatAttempt> HeartbeatWriter::Attempts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return attempts_;
}

Result<HeartbeatAttempt> HeartbeatWriter::WaitForAck(int64_t sent_after_us,
                                                     std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& a : attempts_) {
        if (a.acked_us > 0 && a.sent_us >= sent_after_us) return a;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded(
          "no heartbeat was acknowledged within " + std::to_string(timeout.count()) + " ms",
          "the api-gateway does not accept writes: see its log");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void HeartbeatWriter::Loop() {
  const std::string url = o_.api_url + "/api/v1/events";
  const std::vector<std::string> headers = {"Authorization: Bearer " + o_.ingest_token};
  auto next = std::chrono::steady_clock::now();
  for (int64_t seq = 1; !stop_; ++seq) {
    HeartbeatAttempt a;
    a.seq = seq;
    a.sent_us = UnixMicrosNow();
    Result<HttpReply> r = HttpCall(
        "POST", url, headers, HeartbeatEventJson(o_.run_hex, seq, a.sent_us), o_.request_timeout);
    if (r.ok()) {
      a.status = static_cast<int>(r->status);
      if (r->status == 202) a.acked_us = UnixMicrosNow();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      attempts_.push_back(a);
    }
    // Fixed schedule; after a slow attempt, send the next one right away rather than bunching.
    next += o_.interval;
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;
    while (!stop_ && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          next - std::chrono::steady_clock::now(), std::chrono::milliseconds(20)));
    }
  }
}

HeartbeatLoss MeasureLoss(const std::vector<HeartbeatAttempt>& attempts, int64_t disaster_us,
                          const std::set<int64_t>& present) {
  HeartbeatLoss loss;
  const HeartbeatAttempt* newest_acked = nullptr;
  const HeartbeatAttempt* newest_present = nullptr;
  for (const auto& a : attempts) {
    if (a.sent_us >= disaster_us) continue;
    bool is_present = present.count(a.seq) > 0;
    if (is_present && (!newest_present || a.seq > newest_present->seq)) newest_present = &a;
    if (a.acked_us == 0 || a.acked_us >= disaster_us) continue;
    ++loss.acknowledged_before;
    if (!is_present) ++loss.lost;
    if (!newest_acked || a.seq > newest_acked->seq) newest_acked = &a;
  }
  if (newest_acked) loss.newest_acknowledged_seq = newest_acked->seq;
  if (newest_present) loss.newest_present_seq = newest_present->seq;
  if (!newest_acked) return loss;
  if (loss.lost == 0) {
    loss.rpo_seconds = 0.0;
  } else if (newest_present) {
    loss.rpo_seconds = std::max<int64_t>(0, newest_acked->sent_us - newest_present->sent_us) / 1e6;
  } else {
    // Nothing survived: everything since the first heartbeat is gone.
    loss.rpo_seconds = (newest_acked->sent_us - attempts.front().sent_us) / 1e6;
  }
  return loss;
}

std::optional<double> MeasureRto(const std::vector<HeartbeatAttempt>& attempts, int64_t disaster_us,
                                 int64_t serving_from_us) {
  for (const auto& a : attempts) {
    if (a.acked_us > 0 && a.sent_us >= serving_from_us && a.acked_us >= disaster_us) {
      return (a.acked_us - disaster_us) / 1e6;
    }
  }
  return std::nullopt;
}

PitrExactness CheckPitrExactness(const std::vector<HeartbeatAttempt>& attempts, int64_t target_us,
                                 const std::set<int64_t>& present) {
  PitrExactness e;
  for (const auto& a : attempts) {
    bool is_present = present.count(a.seq) > 0;
    if (a.acked_us > 0 && a.acked_us < target_us) {
      ++e.checked;
      if (!is_present) ++e.missing_before_target;
    } else if (a.sent_us > target_us) {
      ++e.checked;
      if (is_present) ++e.present_after_target;
    }
  }
  return e;
}

}  // namespace auri::dr
