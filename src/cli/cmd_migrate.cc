// `auri migrate`: applies the migrations embedded in this binary to the configured database.
#include <cstdio>

#include "cli/context.h"
#include "cli/exit_codes.h"
#include "store/migrations.h"

namespace auri {

int RunMigrate(const CliContext& ctx) {
  auto report = ApplyMigrations(ctx.config.DatabaseDsn(), ctx.log);
  if (!report.ok()) {
    Status s = report.status();
    if (s.hint().empty() && s.code() == StatusCode::kUnavailable) {
      s = s.WithHint("start the stack first (`make up`), or set postgres.dsn");
    }
    return ReportFailure(s);
  }
  if (ctx.json) {
    std::printf("{\"applied\": %d, \"schema_version\": %d}\n", report->applied,
                report->schema_version);
  } else {
    std::printf("applied %d migration(s); schema version %d\n", report->applied,
                report->schema_version);
  }
  return kExitOk;
}

}  // namespace auri
