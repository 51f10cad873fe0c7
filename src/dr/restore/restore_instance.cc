#include "dr/restore/restore_instance.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/fs.h"
#include "stack/postgres_server.h"
#include "stack/process.h"

namespace auri::dr {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

milliseconds Left(Clock::time_point deadline) {
  return std::max(milliseconds(1),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

std::string RunAs(const std::string& user) { return ::geteuid() == 0 ? user : std::string(); }

Status ValidateName(const std::string& name) {
  if (name.empty() || name.size() > 63) {
    return InvalidArgument("instance name must have 1 to 63 characters, got '" + name + "'");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return InvalidArgument("instance name may only hold a-z, 0-9, - and _, got '" + name + "'");
    }
  }
  return Status::Ok();
}

// A loopback port nobody listens on right now (the kernel's choice for port 0).
Result<int> PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return Unavailable("cannot pick a free port");
  }
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string DescribeWindow(const RestorableWindow& w) {
  if (w.empty) return "no backup exists yet";
  return FormatRfc3339(w.earliest_us) + " .. " + FormatRfc3339(w.latest_us);
}

// pg_ctl runs detached from us: the restored server is the product of the command and must
// outlive it. archive_mode=off: a restored copy must not push its new timeline into the
// repositories of the deployment it was restored from.
Status StartInstance(const RestoreOptions& o, const std::string& root, int port,
                     milliseconds timeout) {
  std::string opts = "-p " + std::to_string(port) + " -k " + root +
                     "/run -c listen_addresses=" + o.host + " -c archive_mode=off";
  for (const auto& setting : o.server_settings) opts += " -c " + setting;
  int secs = static_cast<int>(std::max<int64_t>(1, timeout.count() / 1000));
  auto r = RunCommand({o.pg_bin_dir + "/pg_ctl", "start", "-D", root + "/data", "-l",
                       root + "/log/postgres.log", "-w", "-t", std::to_string(secs), "-o", opts},
                      RunAs(o.run_as), timeout + std::chrono::seconds(5));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return Unavailable("restored instance did not start on port " + std::to_string(port) +
                       "; last lines of " + root + "/log/postgres.log:\n" +
                       TailOfFile(root + "/log/postgres.log", 10));
  }
  return Status::Ok();
}

// Recovery ends when the server promotes (pg_is_in_recovery() = false).
Status WaitUntilWritable(const std::string& dsn, const std::string& root, milliseconds timeout) {
  return WaitUntilRecovered(dsn, root + "/data", root + "/log/postgres.log", timeout);
}

std::string InstanceDsn(const RestoreOptions& o, int port, const std::string& db) {
  return "host=" + o.host + " port=" + std::to_string(port) + " user=" + o.superuser +
         " dbname=" + db + " connect_timeout=5";
}

}  // namespace

std::string DescribeRestoreTarget(const RestoreTarget& t) {
  switch (t.kind) {
    case RestoreTarget::Kind::kLatest:
      return "latest";
    case RestoreTarget::Kind::kBackup:
      return "backup " + t.backup_id;
    case RestoreTarget::Kind::kTime:
      return "time " + FormatRfc3339(t.time_unix_us);
  }
  return "?";
}

Status CheckRestoreTarget(const RestoreTarget& target, const BackupCatalog& catalog,
                          const RestorableWindow& window) {
  if (window.empty) {
    return FailedPrecondition("nothing to restore: no backup exists yet",
                              "take one with `auri backup create`");
  }
  if (target.kind == RestoreTarget::Kind::kBackup) {
    for (const auto& b : catalog.backups) {
      if (b.id == target.backup_id) return Status::Ok();
    }
    return InvalidArgument("no backup with id '" + target.backup_id + "'",
                           "list them with `auri backup list`");
  }
  if (target.kind == RestoreTarget::Kind::kTime &&
      (target.time_unix_us < window.earliest_us || target.time_unix_us > window.latest_us)) {
    return FailedPrecondition("refusing to restore to " + FormatRfc3339(target.time_unix_us) +
                                  ": outside the restorable window " + DescribeWindow(window),
                              "pick a time inside the window (see `auri backup list`)");
  }
  return Status::Ok();
}

Status WaitUntilRecovered(const std::string& dsn, const std::string& data_dir,
                          const std::string& log_file, milliseconds timeout) {
  // Fails fast when the server dies (e.g. "recovery ended before configured recovery target was
  // reached").
  auto deadline = Clock::now() + timeout;
  while (true) {
    auto rows = QueryAdminSql(dsn, "SELECT pg_is_in_recovery()");
    if (rows.ok() && (*rows)[0][0] == "f") return Status::Ok();
    if (!rows.ok() && !PathExists(data_dir + "/postmaster.pid")) {
      return Unavailable("restored server stopped during recovery; last lines of " + log_file +
                             ":\n" + TailOfFile(log_file, 10),
                         "if recovery ended before the target was reached, the WAL after the "
                         "target is not archived yet: pick an earlier time");
    }
    if (Clock::now() >= deadline) {
      return DeadlineExceeded("restored server still in recovery after " +
                              std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
}

std::string FormatRfc3339(int64_t unix_us) {
  time_t secs = static_cast<time_t>(unix_us / 1000000);
  int64_t frac = unix_us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

Result<int64_t> ParseRfc3339(const std::string& text) {
  auto bad = [&] {
    return InvalidArgument("expected an RFC 3339 time like 2025-12-28T10:00:00Z, got '" + text +
                           "'");
  };
  if (text.size() < 20 || text.size() > 40) return bad();
  struct tm tm {};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return bad();
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return bad();
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t us = static_cast<int64_t>(timegm(&tm)) * 1000000;
  size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    int64_t scale = 100000;
    ++i;
    size_t digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (scale > 0) us += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
      ++digits;
    }
    if (digits == 0) return bad();
  }
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z') && i + 1 == text.size()) return us;
  int oh = 0, om = 0;
  if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-') &&
      std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2 && oh <= 23 && om <= 59) {
    int64_t offset = (static_cast<int64_t>(oh) * 3600 + om * 60) * 1000000;
    return text[i] == '+' ? us - offset : us + offset;
  }
  return bad();
}

RestorableWindow ComputeWindow(const BackupCatalog& catalog, int64_t latest_archived_us) {
  RestorableWindow w;
  for (const auto& b : catalog.backups) {
    int64_t end_us = (b.stop_unix + 1) * 1000000;
    if (w.empty || end_us < w.earliest_us) w.earliest_us = end_us;
    if (w.empty || end_us > w.latest_us) w.latest_us = end_us;
    w.empty = false;
  }
  if (!w.empty && latest_archived_us > w.latest_us) w.latest_us = latest_archived_us;
  return w;
}

int64_t LastArchivedTime(const std::string& admin_dsn) {
  if (admin_dsn.empty()) return 0;
  auto rows = QueryAdminSql(
      admin_dsn,
      "SELECT (extract(epoch FROM last_archived_time) * 1000000)::bigint FROM pg_stat_archiver");
  if (!rows.ok() || rows->empty() || (*rows)[0][0].empty()) return 0;
  return std::atoll((*rows)[0][0].c_str());
}

Result<int64_t> FlushWalToRepositories(const std::string& admin_dsn, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  // Separate statements, each its own transaction: the commit record must land in the segment
  // that the switch then closes.
  ASSIGN_OR_RETURN(auto before,
                   QueryAdminSql(admin_dsn, "SELECT failed_count FROM pg_stat_archiver"));
  RETURN_IF_ERROR(ExecuteAdminSql(admin_dsn, "SELECT txid_current()"));
  ASSIGN_OR_RETURN(auto rows, QueryAdminSql(admin_dsn, "SELECT pg_walfile_name(pg_switch_wal())"));
  const std::string segment = rows[0][0];
  while (true) {
    ASSIGN_OR_RETURN(auto st, QueryAdminSql(admin_dsn,
                                            "SELECT coalesce(last_archived_wal, ''), "
                                            "(extract(epoch FROM last_archived_time) * "
                                            "1000000)::bigint, failed_count, "
                                            "coalesce(last_failed_wal, '') FROM pg_stat_archiver"));
    // Compare the log/segment part only: the timeline prefix may differ after a promotion.
    if (st[0][0].size() == 24 && st[0][0].substr(8) >= segment.substr(8)) {
      return std::atoll(st[0][1].c_str());
    }
    // A lost repository makes archive_command fail (pgBackRest still pushes to the others):
    // waiting longer would not help, and the surviving repositories may hold what is needed.
    if (st[0][2] != before[0][0] && st[0][3].size() == 24 &&
        st[0][3].substr(8) >= segment.substr(8)) {
      return Unavailable("archiving wal segment " + segment +
                         " fails (see the pgBackRest log under <home>/backups/log)");
    }
    if (Clock::now() >= deadline) {
      return DeadlineExceeded(
          "wal segment " + segment + " was not archived within " + std::to_string(timeout.count()) +
              " ms (archiver failures: " + st[0][2] + ", last failed: " + st[0][3] + ")",
          "check the pgBackRest log under <home>/backups/log and that every "
          "repository is reachable");
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

Result<RestoredInstance> RestoreToNewInstance(BackupEngine& engine, const RestoreOptions& o,
                                              const Progress& progress) {
  RETURN_IF_ERROR(ValidateName(o.name));
  const std::string root = o.instances_dir + "/" + o.name;
  if (PathExists(root)) {
    return FailedPrecondition(
        "instance '" + o.name + "' already exists at " + root,
        "pick another --as name, or remove it with `auri instance remove " + o.name + "`");
  }
  auto deadline = Clock::now() + o.restore_timeout;

  // 1. Make everything committed so far restorable, so "latest" means now and a time target up
  //    to now has the commit after it that recovery needs. Skipped when the primary is down
  //    (site lost): then the repositories hold what they hold.
  int64_t archived_us = 0;
  if (!o.primary_admin_dsn.empty() && o.target.kind != RestoreTarget::Kind::kBackup) {
    auto flushed =
        FlushWalToRepositories(o.primary_admin_dsn, std::min(Left(deadline), milliseconds(30000)));
    if (flushed.ok()) {
      archived_us = *flushed;
      progress.Step("archived the current WAL segment of the running primary");
    } else {
      // The primary is down or cannot archive (e.g. a repository is lost): restore what the
      // repositories hold; a time target past it is refused or fails recovery with a clear log.
      progress.Step("warning: could not archive the primary's current WAL (" +
                    flushed.status().message() + "); restoring from what the repositories hold");
    }
  }

  // 2. Check the target against the repositories before writing anything.
  ASSIGN_OR_RETURN(BackupCatalog catalog, engine.List(Left(deadline)));
  if (archived_us == 0) archived_us = LastArchivedTime(o.primary_admin_dsn);
  RestorableWindow window = ComputeWindow(catalog, archived_us);
  RETURN_IF_ERROR(CheckRestoreTarget(o.target, catalog, window));
  progress.Step("target " + DescribeRestoreTarget(o.target) + " is inside the restorable window " +
                DescribeWindow(window));

  // 3. The new instance's directories, owned by the server user; data mode 0700 as PostgreSQL
  //    requires.
  RestoredInstance out;
  out.name = o.name;
  out.root = root;
  out.data_dir = root + "/data";
  out.target = DescribeRestoreTarget(o.target);
  RETURN_IF_ERROR(MakeDirectories(o.instances_dir, 0755));
  RETURN_IF_ERROR(MakeDirectories(root, 0755));
  RETURN_IF_ERROR(MakeDirectories(root + "/data", 0700));
  RETURN_IF_ERROR(MakeDirectories(root + "/run", 0755));
  RETURN_IF_ERROR(MakeDirectories(root + "/log", 0755));
  if (!RunAs(o.run_as).empty()) RETURN_IF_ERROR(ChownRecursive(root, o.run_as));

  // 4. Restore the files.
  auto t0 = Clock::now();
  RestoreRequest request{out.data_dir, o.target, o.repo};
  Status restored = engine.Restore(request, Left(deadline));
  if (!restored.ok()) return restored.WithContext("restoring instance '" + o.name + "'");
  out.restore_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  progress.Step("restored the files into " + out.data_dir);

  // 5. Start it and wait until recovery has ended.
  if (o.port > 0) {
    out.port = o.port;
  } else {
    ASSIGN_OR_RETURN(out.port, PickFreePort());
  }
  auto t1 = Clock::now();
  RETURN_IF_ERROR(StartInstance(o, root, out.port, std::min(Left(deadline), o.ready_timeout)));
  progress.Step("started postgresql on port " + std::to_string(out.port) + "; replaying WAL");
  RETURN_IF_ERROR(WaitUntilWritable(InstanceDsn(o, out.port, "postgres"), root,
                                    std::min(Left(deadline), o.ready_timeout)));
  out.recovery_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  out.dsn = InstanceDsn(o, out.port, o.database);
  progress.Step("recovery ended; instance accepts writes");

  nlohmann::json meta = {
      {"name", o.name},
      {"port", out.port},
      {"data_dir", out.data_dir},
      {"dsn", out.dsn},
      {"target", out.target},
      {"restored_at", FormatRfc3339(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count())}};
  RETURN_IF_ERROR(WriteFileAtomically(root + "/instance.json", meta.dump(2) + "\n", 0644));

  // 6. Integrity checks.
  if (o.run_checks) {
    IntegrityOptions check;
    check.dsn = out.dsn;
    check.pg_bin_dir = o.pg_bin_dir;
    ASSIGN_OR_RETURN(out.checks, RunIntegrityChecks(check));
    progress.Step(std::string("integrity checks ") + (out.checks.Passed() ? "passed" : "FAILED"));
  }
  return out;
}

Status RemoveInstance(const std::string& instances_dir, const std::string& name,
                      const std::string& pg_bin_dir, const std::string& run_as,
                      milliseconds timeout) {
  RETURN_IF_ERROR(ValidateName(name));
  const std::string root = instances_dir + "/" + name;
  if (!PathExists(root)) return Status::Ok();
  if (PathExists(root + "/data/postmaster.pid")) {
    int secs = static_cast<int>(std::max<int64_t>(1, timeout.count() / 1000));
    auto r = RunCommand({pg_bin_dir + "/pg_ctl", "stop", "-D", root + "/data", "-m", "fast", "-w",
                         "-t", std::to_string(secs)},
                        RunAs(run_as), timeout + std::chrono::seconds(5));
    if (!r.ok()) return r.status();
    if (r->exit_code != 0 && PathExists(root + "/data/postmaster.pid")) {
      return Unavailable("cannot stop instance '" + name + "': " + r->output);
    }
  }
  auto rm = RunCommand({"/bin/rm", "-rf", "--", root}, "", timeout);
  if (!rm.ok()) return rm.status();
  if (rm->exit_code != 0) return Unavailable("cannot remove " + root + ": " + rm->output);
  return Status::Ok();
}

}  // namespace auri::dr
