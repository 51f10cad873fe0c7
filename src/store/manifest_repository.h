#pragma once
// The configuration manifest (spec 40-dr.md, "Verification"): for each table holding what users
// configured — users, organizations, members, API keys, triggers, conditions, actions — the row
// count and an order-independent checksum of the columns that define it. Two databases with the
// same configuration give the same manifest whatever the physical row order, so a manifest taken
// before a disaster proves a restore brought every row back unchanged.
//
// Runtime state that legitimately changes (last_login_at, failed attempts, circuit-breaker state,
// last_used_at, updated_at) is left out of the checksums.
#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/pool.h"

namespace auri {

struct ManifestTable {
  std::string table;
  int64_t rows = 0;
  std::string checksum;  // md5 hex of the sorted per-row md5s ("" for an empty table's md5 of "")
  friend bool operator==(const ManifestTable&, const ManifestTable&) = default;
};

// The tables in a fixed order. Errors: those of ConnectionPool::Acquire, kUnavailable on a lost
// connection, kInternal otherwise. Runs in one REPEATABLE READ read-only transaction, so the
// tables are checksummed as of one instant.
Result<std::vector<ManifestTable>> ComputeManifest(ConnectionPool& pool,
                                                   std::chrono::milliseconds timeout);

}  // namespace auri
