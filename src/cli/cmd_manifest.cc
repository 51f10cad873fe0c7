// `auri manifest create [--out FILE] [--dsn DSN]`: counts and order-independent checksums of the
// configuration tables (store/manifest_repository.h), printed as JSON or written to FILE, for
// `auri verify --manifest` to compare after a restore.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "cli/exit_codes.h"
#include "common/fs.h"
#include "store/manifest_repository.h"
#include "store/pool.h"

namespace auri {

namespace {

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

int RunManifestCreate(const CliContext& ctx, const ManifestOptions& options) {
  PoolOptions pool_options;
  pool_options.dsn = options.dsn.empty() ? ctx.config.DatabaseDsn() : options.dsn;
  pool_options.size = 1;
  pool_options.statement_timeout_ms = 60000;  // checksumming reads every configuration row
  ConnectionPool pool(pool_options);
  auto tables = ComputeManifest(pool, std::chrono::seconds(10));
  if (!tables.ok()) return ReportFailure(tables.status());
  nlohmann::json doc = {{"kind", "auri-manifest"}, {"version", 1}, {"created_at", UtcNow()}};
  nlohmann::json list = nlohmann::json::object();
  for (const ManifestTable& t : *tables) {
    list[t.table] = {{"rows", t.rows}, {"checksum", t.checksum}};
  }
  doc["tables"] = list;
  std::string text = doc.dump(2) + "\n";
  if (options.out.empty()) {
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  Status written = WriteFileAtomically(options.out, text);
  if (!written.ok()) return ReportFailure(written);
  if (!ctx.json) {
    for (const ManifestTable& t : *tables) {
      std::printf("%-22s %8lld rows  %s\n", t.table.c_str(), static_cast<long long>(t.rows),
                  t.checksum.c_str());
    }
    std::printf("manifest written to %s\n", options.out.c_str());
  } else {
    std::fputs(text.c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace auri
