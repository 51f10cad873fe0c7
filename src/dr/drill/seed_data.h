#pragma once
// Seed data for drills, written through the public API as users would write it (so what is
// restored afterwards is what the application really stores): users who register (each gets
// its organization), one API key per organization, triggers with conditions and a webhook action,
// and a batch of reputation events ingested with the ingest token.
//
// The triggers watch agents no seeded event names, so seeding creates no action jobs and no
// outbound webhooks; the drills' checklist (`auri verify`) exercises delivery with its own probe.
#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"

namespace auri::dr {

struct SeedOptions {
  std::string api_url;
  std::string ingest_token;
  int users = 3;              // each registers and owns one organization
  int triggers_per_user = 3;  // each with 2 conditions and 1 action
  int events = 500;           // ingested in batches of ≤ 1000
};

struct SeedSummary {
  int users = 0;
  int organizations = 0;
  int api_keys = 0;
  int triggers = 0;
  int conditions = 0;
  int actions = 0;
  int events = 0;
  std::vector<std::string> organization_ids;
};

// Errors: kUnavailable naming the request that failed, with the answer's status and body start.
Result<SeedSummary> SeedThroughApi(const SeedOptions& options);

// "3 users, 3 organizations, 3 api keys, 9 triggers (18 conditions, 9 actions), 500 events".
std::string DescribeSeed(const SeedSummary& seed);

}  // namespace auri::dr
