#pragma once
// `auri verify`: the seed's Verification Checklist as one unattended run against a live
// deployment (spec 40-dr.md, "Verification"). Each row is one item of the checklist with its
// verdict, the numbers it measured, the time it took and, when it fails, what to look at:
//
//   api_health       GET /health answers 200
//   database         a committed write is read back (direct connection)
//   authentication   a probe user registers, then GET /auth/me with its token
//   triggers         counts and checksums of the configuration tables equal a manifest (when one
//                    is given; otherwise the counts are reported)
//   event_processing an event ingested for a probe trigger produces its action job
//   action_workers   the probe's webhook reaches a receiver this command runs
//   rate_limiting    X-RateLimit headers are sent; says whether Redis counts or the in-process
//                    fallback does (health "degraded")
//   monitoring       /metrics counts the probe's event
//
// Probe data (user "auri-probe-…", its organization, trigger, jobs, event) is removed at the end,
// whatever the outcome. Later rows that depend on a failed one are reported as failed with the
// reason ("skipped: authentication failed") rather than left out.
#include <chrono>
#include <string>
#include <vector>

namespace auri {
class ConnectionPool;
}

namespace auri::dr {

struct VerifyOptions {
  std::string api_url;        // "http://127.0.0.1:8480"
  std::string manifest_json;  // contents of a manifest file; empty: no comparison
  std::string ingest_token;
  ConnectionPool* pool = nullptr;         // the deployment's database
  std::chrono::milliseconds wait{15000};  // per asynchronous step (job, webhook)
};

struct CheckRow {
  std::string name;
  bool passed = false;
  std::string detail;  // numbers or the failure, one line
  std::string hint;    // what to look at when it failed
  double seconds = 0;
};

std::vector<CheckRow> VerifyDeployment(const VerifyOptions& options);

}  // namespace auri::dr
