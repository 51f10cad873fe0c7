#include "dr/status/dr_status.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "dr/verify/verify_backup.h"
#include "dr/wal_position.h"
#include "stack/postgres_server.h"

namespace auri::dr {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// When segment `wal` arrived in a posix repository: the modification time of its file
// <repo>/archive/<stanza>/<archive id>/<first 16 characters>/<segment>-<sha1>[.ext]. 0 when it
// cannot be found.
int64_t ArchivedAtUs(const std::string& repo_path, const std::string& stanza,
                     const std::string& wal) {
  namespace fs = std::filesystem;
  if (wal.size() != 24) return 0;
  std::error_code ec;
  int64_t newest = 0;
  for (const auto& archive_id : fs::directory_iterator(repo_path + "/archive/" + stanza, ec)) {
    if (!archive_id.is_directory(ec)) continue;
    fs::path dir = archive_id.path() / wal.substr(0, 16);
    for (const auto& file : fs::directory_iterator(dir, ec)) {
      if (file.path().filename().string().rfind(wal, 0) != 0) continue;
      struct stat st {};
      if (::stat(file.path().c_str(), &st) != 0) continue;
      newest = std::max<int64_t>(newest,
                                 int64_t{st.st_mtim.tv_sec} * 1000000 + st.st_mtim.tv_nsec / 1000);
    }
  }
  return newest;
}

// What the commit scan found after one archived end.
struct FirstCommit {
  bool known = false;   // false: the scan could not tell (see note)
  int64_t unix_us = 0;  // commit time of the first commit; 0 when no commit follows
  std::string note;     // why not known
};

// The first COMMIT / COMMIT_PREPARED record in the primary's WAL from `from` (bytes) up to the
// flushed end `flush`, read with pg_walinspect. A commit is durable once its record is flushed,
// so every committed transaction has its commit record at or before `flush`.
//
// PostgreSQL 15's pg_get_wal_records_info materializes its whole range (with a description per
// record), ≈ 1 s per 16 MiB here, so the range is read in chunks that start small and double:
// under load the first commit is within the first few KiB and one small query finds it; only a
// long stretch without commits (one bulk transaction) reads up to kCommitScanCapBytes and gives up.
// Each chunk starts where the previous chunk's last record ended, so no record is skipped (a
// start inside a record would skip to the next record). The commit time is the one the record
// carries (the first timestamp of its description, "[<xid>: ]YYYY-MM-DD HH:MM:SS.ffffff+TZ"),
// which needs no track_commit_timestamp. A commit record that straddles `from` (started in the
// archived segment) is not seen: that transaction counts as archived.
FirstCommit FindFirstCommit(const std::string& admin_dsn, int64_t from, int64_t flush) {
  FirstCommit result;
  int64_t start = from;
  int64_t chunk = 64 * 1024;
  while (start < flush) {
    if (start - from >= kCommitScanCapBytes) {
      result.note = "no commit in the first " + std::to_string(kCommitScanCapBytes >> 20) +
                    " MiB of unarchived WAL";
      return result;
    }
    int64_t end = std::min({flush, start + chunk, from + kCommitScanCapBytes});
    auto rows = QueryAdminSql(
        admin_dsn,
        "WITH r AS MATERIALIZED (SELECT start_lsn, end_lsn, resource_manager, record_type, "
        "description FROM pg_get_wal_records_info('" +
            BytesToLsn(start) + "', '" + BytesToLsn(end) +
            "')) "
            "SELECT coalesce((SELECT coalesce((extract(epoch FROM substring(description FROM "
            "'^(?:[0-9]+: )?([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+[+-][0-9:]+)')::timestamptz) "
            "* 1000000)::bigint::text, 'unreadable') FROM r WHERE resource_manager = "
            "'Transaction' AND record_type IN ('COMMIT', 'COMMIT_PREPARED') ORDER BY start_lsn "
            "LIMIT 1), 'none'), coalesce((SELECT max(end_lsn) FROM r)::text, '')");
    if (!rows.ok() || rows->empty()) {
      result.note = "commit scan failed: " + (rows.ok() ? "no row" : rows.status().message());
      return result;
    }
    const std::string& commit = (*rows)[0][0];
    if (commit == "unreadable") {
      result.note = "commit scan: a commit record's time could not be read";
      return result;
    }
    if (commit != "none") {
      result.known = true;
      result.unix_us = std::atoll(commit.c_str());
      return result;
    }
    // No commit: go on after the chunk's last whole record (none ended inside it: a record larger
    // than the chunk, read again with a doubled chunk).
    int64_t last_end = LsnToBytes((*rows)[0][1]);
    if (last_end > start) start = last_end;
    chunk *= 2;
  }
  result.known = true;  // the whole range holds no commit
  return result;
}

int64_t BackupStartBytes(const BackupRecord& b) {
  int64_t start = LsnToBytes(b.lsn_start);
  return start >= 0 ? start : SegmentStartBytes(b.wal_start);
}

}  // namespace

Status EnsureCommitScanner(const std::string& admin_dsn) {
  return ExecuteAdminSql(admin_dsn, "CREATE EXTENSION IF NOT EXISTS pg_walinspect");
}

Result<DrStatus> CollectDrStatus(BackupEngine& engine, const DrStatusOptions& o) {
  DrStatus st;
  st.now_unix_us = NowUs();
  const double now_s = st.now_unix_us / 1e6;
  ASSIGN_OR_RETURN(BackupCatalog catalog, engine.List(o.timeout));
  st.backups = catalog.backups.size();

  // 1. Backups and verifications.
  std::map<std::pair<int, std::string>, VerificationRecord> verified;
  for (size_t i = 0; i < o.repo_paths.size(); ++i) {
    for (auto& [id, v] : ReadVerifications(o.repo_paths[i])) {
      verified[{static_cast<int>(i) + 1, id}] = v;
    }
  }
  const VerificationRecord* newest_restore_rate = nullptr;
  const VerificationRecord* newest_replay_rate = nullptr;
  const VerificationRecord* newest_recovery = nullptr;
  for (const auto& b : catalog.backups) {
    if (st.newest.id.empty() || b.stop_unix >= st.newest.stop_unix) st.newest = b;
    if (b.type == "full")
      st.newest_full_stop_unix = std::max(st.newest_full_stop_unix, b.stop_unix);
    if (b.type != "full")
      st.newest_incr_stop_unix = std::max(st.newest_incr_stop_unix, b.stop_unix);
    auto it = verified.find({b.repo, b.id});
    if (it == verified.end()) continue;
    const VerificationRecord& v = it->second;
    if (v.state == "failed") ++st.failed_verifications;
    if (v.state != "passed") continue;
    if (st.newest_verified.id.empty() || b.stop_unix >= st.newest_verified.stop_unix) {
      st.newest_verified = b;
      st.last_verified_at = v.verified_at;
    }
    if (v.restore_seconds > 0 && v.restored_bytes > 0 &&
        (!newest_restore_rate || v.verified_at > newest_restore_rate->verified_at)) {
      newest_restore_rate = &v;
    }
    // A replay rate needs at least a segment of WAL: below that, the time is the server's start.
    if (v.recovery_seconds > 0 && v.replayed_wal_bytes >= kDefaultWalSegmentBytes &&
        (!newest_replay_rate || v.verified_at > newest_replay_rate->verified_at)) {
      newest_replay_rate = &v;
    }
    if (v.recovery_seconds > 0 &&
        (!newest_recovery || v.verified_at > newest_recovery->verified_at)) {
      newest_recovery = &v;
    }
  }
  if (!st.newest.id.empty()) st.seconds_since_last_backup = now_s - st.newest.stop_unix;
  if (!st.newest_verified.id.empty()) {
    st.seconds_since_last_verified_backup = now_s - st.newest_verified.stop_unix;
  }
  if (newest_restore_rate) {
    st.restore_bytes_per_second =
        newest_restore_rate->restored_bytes / newest_restore_rate->restore_seconds;
  }
  if (newest_replay_rate) {
    st.replay_bytes_per_second =
        newest_replay_rate->replayed_wal_bytes / newest_replay_rate->recovery_seconds;
  }
  if (newest_recovery) st.measured_recovery_seconds = newest_recovery->recovery_seconds;

  // 2. The primary's archiver and WAL position.
  int64_t current_bytes = -1;
  int64_t segment_bytes = kDefaultWalSegmentBytes;
  int64_t last_archived_us = 0;
  auto rows = QueryAdminSql(
      o.admin_dsn,
      "SELECT coalesce(last_archived_wal, ''), "
      "coalesce((extract(epoch FROM last_archived_time) * 1000000)::bigint, 0), failed_count, "
      "coalesce(last_failed_wal, ''), pg_walfile_name(pg_current_wal_lsn()), "
      "pg_current_wal_lsn()::text, "
      "(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'), "
      // The newest commit's time: pg_last_committed_xact() knows commits since the server
      // started; after a restart the newest assigned xid's commit timestamp (kept on disk) does.
      "CASE WHEN current_setting('track_commit_timestamp') = 'on' THEN coalesce((extract(epoch "
      "FROM coalesce((pg_last_committed_xact()).timestamp, pg_xact_commit_timestamp((("
      "pg_snapshot_xmax(pg_current_snapshot())::text::bigint - 1) % 4294967296)::text::xid))) "
      "* 1000000)::bigint, 0) ELSE -1 END, "
      "pg_current_wal_flush_lsn()::text, "
      "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_walinspect') "
      "FROM pg_stat_archiver");
  int64_t flush_bytes = -1;
  bool commit_scan = false;
  if (!o.admin_dsn.empty() && rows.ok() && !rows->empty()) {
    const auto& r = (*rows)[0];
    st.primary_reachable = true;
    st.last_archived_wal = r[0];
    last_archived_us = std::atoll(r[1].c_str());
    st.seconds_since_last_archive =
        last_archived_us > 0 ? (st.now_unix_us - last_archived_us) / 1e6 : -1.0;
    st.archive_failed_count = std::atoll(r[2].c_str());
    // Failing: the newest failure is not older than the newest success (compare the log/segment
    // part only: the timeline changes after a promotion).
    st.archiving_failing =
        r[3].size() == 24 && (r[0].size() != 24 || r[3].substr(8) >= r[0].substr(8));
    st.current_wal = r[4];
    current_bytes = LsnToBytes(r[5]);
    if (std::atoll(r[6].c_str()) > 0) segment_bytes = std::atoll(r[6].c_str());
    st.last_commit_unix_us = std::atoll(r[7].c_str());
    flush_bytes = LsnToBytes(r[8]);
    // The scan needs pg_walinspect in the admin database. `auri up` creates it; a deployment
    // that predates that, or a restored instance switched in, gets it here on first use.
    commit_scan = r[9] == "t";
    if (!commit_scan) {
      Status created = EnsureCommitScanner(o.admin_dsn);
      commit_scan = created.ok();
      if (!created.ok()) {
        st.commit_scan_note = "pg_walinspect unavailable (" + created.message() +
                              "); hint: CREATE EXTENSION pg_walinspect as a superuser in the "
                              "admin database";
      }
    }
  }

  // 3. Each repository: how much of the primary's WAL it lacks.
  int64_t newest_archived_end = -1;
  std::map<int64_t, FirstCommit> first_commit_after;  // by archived end: repositories often agree
  for (const auto& repo : catalog.repos) {
    RepositoryLag lag;
    lag.repo = repo.repo;
    lag.ok = repo.ok;
    lag.message = repo.message;
    lag.wal_max = repo.wal_max;
    if (repo.repo >= 1 && repo.repo <= static_cast<int>(o.repo_paths.size())) {
      lag.path = o.repo_paths[repo.repo - 1];
    }
    int64_t end = repo.wal_max.empty() ? -1 : SegmentStartBytes(repo.wal_max, segment_bytes);
    if (end >= 0) {
      end += segment_bytes;
      newest_archived_end = std::max(newest_archived_end, end);
    }
    if (end >= 0 && current_bytes >= 0) {
      lag.lag_bytes = std::max<int64_t>(0, current_bytes - end);
      FirstCommit first;
      if (lag.lag_bytes > 0 && commit_scan && flush_bytes >= 0) {
        auto it = first_commit_after.find(end);
        if (it == first_commit_after.end()) {
          it =
              first_commit_after.emplace(end, FindFirstCommit(o.admin_dsn, end, flush_bytes)).first;
        }
        first = it->second;
        if (!first.known && st.commit_scan_note.empty()) st.commit_scan_note = first.note;
      }
      if (lag.lag_bytes == 0) {
        lag.lag_seconds = 0;
      } else if (first.known) {
        // Exact: the oldest commit this repository lacks (0 when none does).
        lag.lag_seconds =
            first.unix_us > 0 ? std::max(0.0, (st.now_unix_us - first.unix_us) / 1e6) : 0.0;
      } else {
        // The bound: the oldest unarchived commit is no older than wal_max's arrival.
        lag.lag_seconds_is_bound = true;
        int64_t at = lag.path.empty() ? 0 : ArchivedAtUs(lag.path, o.stanza, repo.wal_max);
        if (at == 0) at = last_archived_us;
        // A commit up to 1 s before the segment arrived may already be in the next segment (the
        // push takes a moment after the switch): count it as exposed.
        // last_commit_unix_us: -1 = not tracked (unknown: assume a commit), 0 = no commit known.
        bool committed_since = st.last_commit_unix_us < 0 || st.last_commit_unix_us > at - 1000000;
        if (at > 0 && !committed_since) {
          lag.lag_seconds = 0;
        } else if (at > 0) {
          lag.lag_seconds = std::max(0.0, (st.now_unix_us - at) / 1e6);
        }
      }
    }
    st.repositories.push_back(lag);
  }

  // 4. Window and predicted RTO (a restore of the newest backup replaying WAL up to now, or up to
  //    what the repositories hold when the primary is gone).
  st.window = ComputeWindow(catalog, last_archived_us);
  if (!st.newest.id.empty()) {
    int64_t start = BackupStartBytes(st.newest);
    int64_t end = current_bytes >= 0 ? current_bytes : newest_archived_end;
    if (start >= 0 && end >= 0) st.wal_since_backup_bytes = std::max<int64_t>(0, end - start);
    if (st.restore_bytes_per_second > 0 && st.wal_since_backup_bytes >= 0) {
      // Without a replay rate (no verification replayed a whole segment yet), the replay term is
      // what start-to-writable took in the newest verification.
      double replay = st.replay_bytes_per_second > 0
                          ? st.wal_since_backup_bytes / st.replay_bytes_per_second
                          : st.measured_recovery_seconds;
      if (replay >= 0) {
        st.predicted_rto_seconds = st.newest.size_bytes / st.restore_bytes_per_second + replay;
      }
    }
  }
  // 5. The newest drill of each kind.
  if (!o.repo_paths.empty()) {
    int skipped = 0;
    auto records = ReadDrillLog(o.repo_paths.front(), &skipped);
    if (records.ok()) {
      st.drills = LastDrillPerKind(*records, st.now_unix_us / 1000000);
    } else {
      st.drill_log_error = records.status().message();
    }
  }
  return st;
}

}  // namespace auri::dr
