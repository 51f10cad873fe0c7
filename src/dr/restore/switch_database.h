#pragma once
// SwitchStackDatabase: the second half of `auri restore --switch` — a restored, checked instance
// becomes the running stack's database without restarting a service (spec 40-dr.md; replaces the
// seed's "update the secret, force a new deployment"). A linear script:
//
//   1. archiving: the instance was started with archive_mode=on and no archive_command (WAL kept,
//      nothing pushed); now that it is chosen, its archive_command is set so its new timeline
//      (history file first) reaches the repositories — before any application write lands there;
//   2. services: `point_services` writes the `database-url` secret; every service notices within
//      a second and reconnects (pools, LISTEN connections);
//   3. drain: wait until no client is left on the old primary's database (bounded; what is left
//      is cut off when it stops and retried by its client);
//   4. ownership: record the instance as the stack's database (<home>/postgres/active.json) and
//      ask the supervisor (SIGHUP) to adopt it; the supervisor stops the old primary — its data
//      directory stays on disk — and supervises the instance from then on (`auri status` lists
//      it, `auri down` stops it, a crash restarts it).
//
// Requests served during the switch see at worst 503 + Retry-After (a dropped connection is
// kUnavailable in the gateway); writes committed on the old primary after the restore target are
// not in the restored instance (that is what restoring to a point in time means).
#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"
#include "config/active_database.h"
#include "dr/progress.h"

namespace auri::dr {

struct SwitchOptions {
  std::string home;           // where the active-database record goes
  std::string state_file;     // the supervisor's run file (<home>/run/stack.json)
  std::string old_admin_dsn;  // the current primary ("postgres" database)
  std::string database = "auri";
  std::string instance_admin_dsn;  // the restored instance ("postgres" database)
  std::string archive_command;     // the instance's archive_command (see PgBackRest settings)
  std::string services_dsn;        // what the services are pointed at
  ActiveDatabase record;           // the instance as the stack's database
  // Points the running services at `services_dsn` (writes the database-url secret).
  std::function<Status(const std::string& dsn)> point_services;
  std::chrono::milliseconds drain_timeout{15000};
  std::chrono::milliseconds adopt_timeout{60000};
};

struct SwitchReport {
  int clients_left_on_old = 0;  // connections still on the old primary when it was stopped
  double drain_seconds = 0;     // secret written → no client left on the old primary
  pid_t adopted_pid = -1;       // the instance's postmaster, now supervised
};

// Errors: kUnavailable when a step cannot be done (the message says which; steps already done
// stay done — rerunning the same `auri restore --switch` is not possible with the same name, so
// the message names what to finish by hand); kDeadlineExceeded when the supervisor does not adopt
// the instance in time.
Result<SwitchReport> SwitchStackDatabase(const SwitchOptions& options, const Progress& progress);

// Sets archive_command (ALTER SYSTEM, then a configuration reload) on the server of `admin_dsn`.
Status EnableArchiving(const std::string& admin_dsn, const std::string& archive_command);

}  // namespace auri::dr
