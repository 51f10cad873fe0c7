#include "dr/restore/restore_in_place.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <thread>

#include "common/fs.h"
#include "dr/restore/restore_instance.h"
#include "stack/postgres_server.h"
#include "stack/process.h"
#include "stack/stack_control.h"

namespace auri::dr {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string RunAs(const std::string& user) { return ::geteuid() == 0 ? user : std::string(); }

milliseconds Left(Clock::time_point deadline) {
  return std::max(milliseconds(1),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

std::string CompactUtcNow() {
  time_t now = ::time(nullptr);
  struct tm tm {};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// 'text' for /bin/sh (pg_ctl hands -o to a shell).
std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string AdminDsn(const InPlaceOptions& o, const std::string& db) {
  return "host=" + o.host + " port=" + std::to_string(o.port) + " user=" + o.superuser +
         " dbname=" + db + " connect_timeout=5";
}

Status WaitUntilStopped(const std::string& data_dir, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (PathExists(data_dir + "/postmaster.pid")) {
    if (Clock::now() >= deadline) {
      return DeadlineExceeded("postgresql on " + data_dir + " did not stop within " +
                              std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Status::Ok();
}

Status PgCtlStop(const InPlaceOptions& o, milliseconds timeout) {
  int secs = static_cast<int>(std::max<int64_t>(1, timeout.count() / 1000));
  ASSIGN_OR_RETURN(CommandResult r, RunCommand({o.pg_bin_dir + "/pg_ctl", "stop", "-D", o.data_dir,
                                                "-m", "fast", "-w", "-t", std::to_string(secs)},
                                               RunAs(o.run_as), timeout + std::chrono::seconds(5)));
  if (r.exit_code != 0 && PathExists(o.data_dir + "/postmaster.pid")) {
    return Unavailable("cannot stop postgresql on " + o.data_dir + ": " + r.output);
  }
  return Status::Ok();
}

Status PgCtlStart(const InPlaceOptions& o, milliseconds timeout) {
  std::string opts = "-p " + std::to_string(o.port) + " -k " + ShellQuote(o.socket_dir) +
                     " -c listen_addresses=" + o.host;
  for (const auto& s : o.server_settings) opts += " -c " + ShellQuote(s);
  int secs = static_cast<int>(std::max<int64_t>(1, timeout.count() / 1000));
  ASSIGN_OR_RETURN(CommandResult r,
                   RunCommand({o.pg_bin_dir + "/pg_ctl", "start", "-D", o.data_dir, "-l",
                               o.log_file, "-w", "-t", std::to_string(secs), "-o", opts},
                              RunAs(o.run_as), timeout + std::chrono::seconds(5)));
  if (r.exit_code != 0) {
    return Unavailable("restored postgresql did not start on port " + std::to_string(o.port) +
                       "; last lines of " + o.log_file + ":\n" + TailOfFile(o.log_file, 10));
  }
  return Status::Ok();
}

// Asks the running supervisor to stop (hold = true) or start (false) PostgreSQL and waits until
// its run file shows it.
Status SupervisorHold(const InPlaceOptions& o, bool hold, milliseconds timeout) {
  const std::string state_file = o.run_dir + "/stack.json";
  if (hold) {
    RETURN_IF_ERROR(HoldComponent(o.run_dir, "postgres", "auri restore --in-place"));
  } else {
    RETURN_IF_ERROR(ReleaseComponent(o.run_dir, "postgres"));
  }
  RETURN_IF_ERROR(RequestSupervisorReload(state_file));
  auto done = WaitForComponent(
      state_file, "postgres",
      [hold](const ComponentState& c) { return hold ? c.pid <= 0 : c.pid > 0; }, timeout);
  return done.status();
}

}  // namespace

Result<InPlaceResult> RestoreInPlace(BackupEngine& engine, const InPlaceOptions& o,
                                     const Progress& progress) {
  auto deadline = Clock::now() + o.restore_timeout;
  InPlaceResult out;
  out.target = DescribeRestoreTarget(o.target);
  const std::string admin = AdminDsn(o, "postgres");
  const bool running = PostgresAcceptsConnections(o.host, o.port, 2);

  // 1. Everything committed so far becomes restorable ("latest" = now).
  int64_t archived_us = 0;
  if (running && o.target.kind != RestoreTarget::Kind::kBackup) {
    auto flushed = FlushWalToRepositories(admin, std::min(Left(deadline), milliseconds(30000)));
    if (flushed.ok()) {
      archived_us = *flushed;
      progress.Step("archived the current WAL segment of the running primary");
    } else {
      progress.Step("warning: could not archive the primary's current WAL (" +
                    flushed.status().message() + "); restoring from what the repositories hold");
    }
  }

  // 2. The target against the repositories, before anything is touched.
  ASSIGN_OR_RETURN(BackupCatalog catalog, engine.List(Left(deadline)));
  if (archived_us == 0 && running) archived_us = LastArchivedTime(admin);
  RestorableWindow window = ComputeWindow(catalog, archived_us);
  RETURN_IF_ERROR(CheckRestoreTarget(o.target, catalog, window));
  progress.Step("target " + out.target + " is inside the restorable window");

  // 3. Stop the stack's PostgreSQL. The supervisor must do it when it runs, or it would restart
  //    the server under our feet.
  auto stopped_at = Clock::now();
  out.supervised = RunningStack(o.run_dir + "/stack.json").ok();
  if (out.supervised) {
    RETURN_IF_ERROR(
        SupervisorHold(o, true, std::min(Left(deadline), o.stop_timeout + milliseconds(5000))));
    progress.Step("the supervisor stopped postgresql (services answer 503 until it is back)");
  } else if (PathExists(o.data_dir + "/postmaster.pid")) {
    RETURN_IF_ERROR(PgCtlStop(o, o.stop_timeout));
    progress.Step("stopped postgresql");
  }
  Status gone = WaitUntilStopped(o.data_dir, std::min(Left(deadline), o.stop_timeout));
  if (!gone.ok()) {
    if (out.supervised) (void)SupervisorHold(o, false, milliseconds(1000));
    return gone;
  }

  // 4. Keep the old data directory: it is the only copy of anything committed after the target.
  out.moved_aside = o.data_dir + ".before-restore-" + CompactUtcNow();
  if (::rename(o.data_dir.c_str(), out.moved_aside.c_str()) != 0) {
    Status s = ErrnoStatus("cannot move the data directory aside", o.data_dir);
    if (out.supervised) (void)SupervisorHold(o, false, o.ready_timeout);
    return s;
  }
  progress.Step("moved the old data directory to " + out.moved_aside);

  // 5. Restore into a fresh directory; put the old one back if that fails.
  auto put_back = [&](const Status& why) -> Status {
    (void)RunCommand({"/bin/rm", "-rf", "--", o.data_dir}, "", milliseconds(60000));
    if (::rename(out.moved_aside.c_str(), o.data_dir.c_str()) == 0) {
      progress.Step("put the old data directory back");
    }
    if (out.supervised) (void)SupervisorHold(o, false, o.ready_timeout);
    return why.WithContext("restoring in place (the old data directory is back in place)");
  };
  Status made = MakeDirectories(o.data_dir, 0700);
  if (made.ok() && !RunAs(o.run_as).empty()) made = ChownRecursive(o.data_dir, o.run_as);
  if (!made.ok()) return put_back(made);
  auto t0 = Clock::now();
  Status restored = engine.Restore(RestoreRequest{o.data_dir, o.target, o.repo}, Left(deadline));
  if (!restored.ok()) return put_back(restored);
  out.restore_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  progress.Step("restored the files into " + o.data_dir);

  // 6. Start it as the primary (archiving on) and wait until recovery has ended.
  auto t1 = Clock::now();
  if (out.supervised) {
    RETURN_IF_ERROR(SupervisorHold(o, false, std::min(Left(deadline), o.ready_timeout)));
    progress.Step("the supervisor started postgresql; replaying WAL");
  } else {
    RETURN_IF_ERROR(PgCtlStart(o, std::min(Left(deadline), o.ready_timeout)));
    progress.Step("started postgresql; replaying WAL");
  }
  RETURN_IF_ERROR(
      WaitUntilRecovered(admin, o.data_dir, o.log_file, std::min(Left(deadline), o.ready_timeout)));
  out.recovery_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  out.outage_seconds = std::chrono::duration<double>(Clock::now() - stopped_at).count();
  (void)WakeCheckpointer(admin);  // archive_timeout applies from now on
  progress.Step("recovery ended; postgresql accepts writes");

  // 7. Integrity checks.
  out.dsn = AdminDsn(o, o.database);
  IntegrityOptions check;
  check.dsn = out.dsn;
  check.pg_bin_dir = o.pg_bin_dir;
  ASSIGN_OR_RETURN(out.checks, RunIntegrityChecks(check));
  progress.Step(std::string("integrity checks ") + (out.checks.Passed() ? "passed" : "FAILED"));
  if (!out.supervised) {
    // The stack is down: leave the server as the stack would find it (`auri up` starts it).
    RETURN_IF_ERROR(PgCtlStop(o, o.stop_timeout));
    progress.Step("stopped postgresql again (the stack is not running; `auri up` starts it)");
  }
  return out;
}

}  // namespace auri::dr
