#include "dr/restore/switch_database.h"

#include <cstdlib>
#include <thread>

#include "stack/postgres_server.h"
#include "stack/stack_control.h"

namespace auri::dr {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string SqlLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Client connections to `database` other than ours; -1 when the server does not answer (then
// nobody is on it either).
int ClientsOn(const std::string& admin_dsn, const std::string& database) {
  auto rows = QueryAdminSql(admin_dsn,
                            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client "
                            "backend' AND pid <> pg_backend_pid() AND datname = " +
                                SqlLiteral(database));
  if (!rows.ok() || rows->empty()) return -1;
  return std::atoi((*rows)[0][0].c_str());
}

}  // namespace

Status EnableArchiving(const std::string& admin_dsn, const std::string& archive_command) {
  RETURN_IF_ERROR(ExecuteAdminSql(
      admin_dsn, "ALTER SYSTEM SET archive_command = " + SqlLiteral(archive_command)));
  return ExecuteAdminSql(admin_dsn, "SELECT pg_reload_conf()");
}

Result<SwitchReport> SwitchStackDatabase(const SwitchOptions& o, const Progress& progress) {
  SwitchReport report;

  // 1. The instance archives from now on. Its WAL since the promotion was kept (archive_mode=on
  //    without a command), so the history file and every segment reach the repositories.
  RETURN_IF_ERROR(EnableArchiving(o.instance_admin_dsn, o.archive_command)
                      .WithContext("enabling WAL archiving on the restored instance"));
  progress.Step("the restored instance archives its WAL into the repositories");

  // 2. The services follow the database-url secret.
  auto t0 = Clock::now();
  RETURN_IF_ERROR(o.point_services(o.services_dsn).WithContext("writing the database-url secret"));
  progress.Step("database-url now names the restored instance; services reconnect within a second");

  // 3. Drain the old primary: pools close idle connections at once and loaned ones on return.
  auto deadline = t0 + o.drain_timeout;
  while (true) {
    int left = ClientsOn(o.old_admin_dsn, o.database);
    if (left <= 0) break;
    if (Clock::now() >= deadline) {
      report.clients_left_on_old = left;
      progress.Step("warning: " + std::to_string(left) +
                    " connections are still on the old primary; they are cut off when it stops");
      break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  report.drain_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (report.clients_left_on_old == 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "no service is left on the old primary (%.1f s)",
                  report.drain_seconds);
    progress.Step(buf);
  }

  // 4. The instance becomes the stack's database; the supervisor stops the old primary and
  //    adopts the instance's running server (no restart).
  RETURN_IF_ERROR(WriteActiveDatabase(o.home, o.record)
                      .WithContext("recording the restored instance as the stack's database"));
  RETURN_IF_ERROR(RequestSupervisorReload(o.state_file));
  const int port = o.record.port;
  const std::string data_dir = o.record.data_dir;
  ASSIGN_OR_RETURN(ComponentState adopted, WaitForComponent(
                                               o.state_file, "postgres",
                                               [port, data_dir](const ComponentState& c) {
                                                 return c.port == port && c.pid > 0 &&
                                                        c.pid == ReadyPostmasterPid(data_dir);
                                               },
                                               o.adopt_timeout));
  report.adopted_pid = adopted.pid;
  progress.Step(
      "the supervisor stopped the old primary and supervises the restored instance (pid " +
      std::to_string(adopted.pid) + ", port " + std::to_string(port) + ")");
  return report;
}

}  // namespace auri::dr
