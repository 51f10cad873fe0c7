// `auri jobs dead-letters` and `auri jobs replay`: inspecting and replaying dead letters
// (spec 30-delivery.md, "Retries and dead letters").
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "cli/exit_codes.h"
#include "store/job_repository.h"
#include "store/pool.h"

namespace auri {
namespace {

ConnectionPool MakePool(const Config& c) {
  PoolOptions o;
  o.dsn = c.DatabaseDsn();
  o.size = 1;
  o.statement_timeout_ms = c.postgres.statement_timeout_ms;
  return ConnectionPool(o);
}

std::chrono::milliseconds Timeout(const Config& c) {
  return std::chrono::milliseconds(c.postgres.connect_timeout_seconds * 1000);
}

}  // namespace

int RunJobsDeadLetters(const CliContext& ctx, const JobsOptions& options) {
  ConnectionPool pool = MakePool(ctx.config);
  auto list = ListDeadLetters(pool, options.trigger, options.limit, Timeout(ctx.config));
  if (!list.ok()) return ReportFailure(list.status());
  if (ctx.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const DeadLetter& d : *list) {
      nlohmann::json j = {{"id", d.id},
                          {"trigger_id", d.trigger_id},
                          {"event_id", d.event_id},
                          {"action_type", d.action_type},
                          {"attempts", d.attempts},
                          {"last_error", d.last_error},
                          {"updated_at", d.updated_at}};
      j["last_status_code"] = d.last_status_code ? nlohmann::json(*d.last_status_code) : nullptr;
      out.push_back(std::move(j));
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-36s  %-36s  %-8s  %-8s  %-4s  %s\n", "JOB", "TRIGGER", "TYPE", "ATTEMPTS", "CODE",
              "ERROR");
  for (const DeadLetter& d : *list) {
    std::string code = d.last_status_code ? std::to_string(*d.last_status_code) : "-";
    std::printf("%-36s  %-36s  %-8s  %-8d  %-4s  %s\n", d.id.c_str(), d.trigger_id.c_str(),
                d.action_type.c_str(), d.attempts, code.c_str(), d.last_error.c_str());
  }
  return kExitOk;
}

int RunJobsReplay(const CliContext& ctx, const JobsOptions& options) {
  if (options.job_id.empty() == options.trigger.empty()) {
    return ReportFailure(InvalidArgument("give either a job id or --all-for-trigger T",
                                         "see `auri jobs replay --help`"));
  }
  ConnectionPool pool = MakePool(ctx.config);
  auto n = options.job_id.empty()
               ? ReplayDeadLettersOfTrigger(pool, options.trigger, Timeout(ctx.config))
               : ReplayDeadLetter(pool, options.job_id, Timeout(ctx.config));
  if (!n.ok()) return ReportFailure(n.status());
  if (!options.job_id.empty() && *n == 0) {
    return ReportFailure(NotFound("job " + options.job_id + " is not a dead letter",
                                  "list them with `auri jobs dead-letters`"));
  }
  if (ctx.json) {
    std::printf("{\"replayed\": %lld}\n", static_cast<long long>(*n));
  } else {
    std::printf("replayed %lld dead letter(s)\n", static_cast<long long>(*n));
  }
  return kExitOk;
}

}  // namespace auri
