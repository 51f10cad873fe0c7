// `auri verify [--url URL] [--manifest FILE] [--json]`: runs the verification checklist
// (dr/checklist/verify_deployment.h) against the configured deployment and prints one row per
// item. Exit 0 when every row passes, 1 when any fails, 2/3 when it cannot run at all.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "cli/exit_codes.h"
#include "common/fs.h"
#include "dr/checklist/verify_deployment.h"
#include "secrets/secret_store.h"
#include "store/pool.h"

namespace auri {

int RunVerify(const CliContext& ctx, const VerifyCommandOptions& options) {
  const Config& c = ctx.config;
  dr::VerifyOptions v;
  v.api_url = options.url.empty() ? c.ApiBaseUrl() : options.url;
  while (!v.api_url.empty() && v.api_url.back() == '/') v.api_url.pop_back();
  if (!options.manifest.empty()) {
    Result<std::string> text = ReadFileLimited(options.manifest, 16 << 20);
    if (!text.ok()) return ReportFailure(text.status());
    v.manifest_json = std::move(text).value();
  }
  // The ingest token and the database are the deployment's own: verify runs where `auri up` ran
  // (or with the same auri.toml and master key).
  auto secrets = OpenSecretStore(c);
  if (!secrets.ok()) return ReportFailure(secrets.status());
  auto token = secrets->Get("ingest-token");
  if (!token.ok()) return ReportFailure(token.status());
  v.ingest_token = token->value.reveal();
  PoolOptions pool_options;
  pool_options.dsn = c.DatabaseDsn();
  pool_options.size = 2;
  pool_options.statement_timeout_ms = 10000;
  ConnectionPool pool(pool_options);
  v.pool = &pool;

  std::vector<dr::CheckRow> rows = dr::VerifyDeployment(v);
  bool all = true;
  for (const dr::CheckRow& r : rows) all = all && r.passed;

  if (ctx.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const dr::CheckRow& r : rows) {
      nlohmann::json row = {
          {"check", r.name}, {"passed", r.passed}, {"detail", r.detail}, {"seconds", r.seconds}};
      if (!r.hint.empty()) row["hint"] = r.hint;
      list.push_back(row);
    }
    nlohmann::json doc = {{"url", v.api_url}, {"passed", all}, {"checks", list}};
    std::puts(doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("verifying %s\n", v.api_url.c_str());
    for (const dr::CheckRow& r : rows) {
      std::printf("  %-4s %-17s %6.2fs  %s\n", r.passed ? "ok" : "FAIL", r.name.c_str(), r.seconds,
                  r.detail.c_str());
      if (!r.passed && !r.hint.empty()) std::printf("         hint: %s\n", r.hint.c_str());
    }
    std::printf("%s\n", all ? "verification passed" : "verification FAILED");
  }
  return all ? kExitOk : kExitCheckFailed;
}

}  // namespace auri
