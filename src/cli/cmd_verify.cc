// `auri verify [--url URL] [--manifest FILE] [--json]`: runs the verification checklist
// (dr/checklist/verify_deployment.h) against the configured deployment and prints one row per
// item. Exit 0 when every row passes, 1 when any fails, 2/3 when it cannot run at all.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/backup_wiring.h"
#include "cli/context.h"
#include "cli/database_url.h"
#include "cli/exit_codes.h"
#include "common/fs.h"
#include "dr/checklist/verify_deployment.h"
#include "secrets/secret_store.h"
#include "store/pool.h"

namespace auri {

Result<std::vector<dr::CheckRow>> RunVerifyChecklist(const Config& c, const std::string& api_url,
                                                     const std::string& manifest_json,
                                                     const std::string& dsn) {
  dr::VerifyOptions v;
  v.api_url = api_url.empty() ? c.ApiBaseUrl() : api_url;
  while (!v.api_url.empty() && v.api_url.back() == '/') v.api_url.pop_back();
  v.manifest_json = manifest_json;
  // The ingest token and the database are the deployment's own: verify runs where `auri up` ran
  // (or with the same auri.toml and master key).
  ASSIGN_OR_RETURN(SecretStore secrets, OpenSecretStore(c));
  ASSIGN_OR_RETURN(SecretVersion token, secrets.Get("ingest-token"));
  v.ingest_token = token.value.reveal();
  PoolOptions pool_options;
  pool_options.dsn = dsn.empty() ? ServiceDatabaseDsn(c, &secrets) : dsn;
  pool_options.size = 2;
  pool_options.statement_timeout_ms = 10000;
  ConnectionPool pool(pool_options);
  v.pool = &pool;
  return dr::VerifyDeployment(v);
}

void PrintVerifyChecklist(const std::vector<dr::CheckRow>& rows, const std::string& url) {
  bool all = true;
  for (const dr::CheckRow& r : rows) all = all && r.passed;
  std::printf("verifying %s\n", url.c_str());
  for (const dr::CheckRow& r : rows) {
    std::printf("  %-4s %-17s %6.2fs  %s\n", r.passed ? "ok" : "FAIL", r.name.c_str(), r.seconds,
                r.detail.c_str());
    if (!r.passed && !r.hint.empty()) std::printf("         hint: %s\n", r.hint.c_str());
  }
  std::printf("%s\n", all ? "verification passed" : "verification FAILED");
}

nlohmann::json VerifyChecklistJson(const std::vector<dr::CheckRow>& rows) {
  nlohmann::json list = nlohmann::json::array();
  for (const dr::CheckRow& r : rows) {
    nlohmann::json row = {
        {"check", r.name}, {"passed", r.passed}, {"detail", r.detail}, {"seconds", r.seconds}};
    if (!r.hint.empty()) row["hint"] = r.hint;
    list.push_back(row);
  }
  return list;
}

int RunVerify(const CliContext& ctx, const VerifyCommandOptions& options) {
  const Config& c = ctx.config;
  std::string manifest;
  if (!options.manifest.empty()) {
    Result<std::string> text = ReadFileLimited(options.manifest, 16 << 20);
    if (!text.ok()) return ReportFailure(text.status());
    manifest = std::move(text).value();
  }
  std::string url = options.url.empty() ? c.ApiBaseUrl() : options.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  auto rows = RunVerifyChecklist(c, url, manifest, "");
  if (!rows.ok()) return ReportFailure(rows.status());
  bool all = true;
  for (const dr::CheckRow& r : *rows) all = all && r.passed;
  if (ctx.json) {
    nlohmann::json doc = {{"url", url}, {"passed", all}, {"checks", VerifyChecklistJson(*rows)}};
    std::puts(doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    PrintVerifyChecklist(*rows, url);
  }
  return all ? kExitOk : kExitCheckFailed;
}

}  // namespace auri
