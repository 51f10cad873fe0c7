#include "dr/verify/verify_backup.h"

#include <nlohmann/json.hpp>

#include "common/fs.h"
#include "dr/wal_position.h"
#include "stack/postgres_server.h"

namespace auri::dr {
namespace {

using nlohmann::json;

std::string VerificationFile(const std::string& repo_path) {
  return repo_path + "/auri-verifications.json";
}

Status RecordVerification(const std::string& repo_path, const VerificationRecord& r) {
  json doc = json::object();
  if (auto text = ReadFileLimited(VerificationFile(repo_path), 16 << 20); text.ok()) {
    json parsed = json::parse(*text, nullptr, false);
    if (parsed.is_object()) doc = parsed;
  }
  doc[r.backup_id] = {{"state", r.state},
                      {"repo", r.repo},
                      {"verified_at", r.verified_at},
                      {"seconds", r.seconds},
                      {"detail", r.detail},
                      {"restore_seconds", r.restore_seconds},
                      {"restored_bytes", r.restored_bytes},
                      {"recovery_seconds", r.recovery_seconds},
                      {"replayed_wal_bytes", r.replayed_wal_bytes}};
  return WriteFileAtomically(VerificationFile(repo_path), doc.dump(2) + "\n", 0644);
}

std::string NowRfc3339() {
  return FormatRfc3339(std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
}

}  // namespace

std::map<std::string, VerificationRecord> ReadVerifications(const std::string& repo_path) {
  std::map<std::string, VerificationRecord> out;
  auto text = ReadFileLimited(VerificationFile(repo_path), 16 << 20);
  if (!text.ok()) return out;
  json doc = json::parse(*text, nullptr, false);
  if (!doc.is_object()) return out;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const json& v = it.value();
    if (!v.is_object()) continue;
    VerificationRecord r;
    r.backup_id = it.key();
    r.repo = v.value("repo", 0);
    r.state = v.value("state", "");
    r.verified_at = v.value("verified_at", "");
    r.seconds = v.value("seconds", 0.0);
    r.detail = v.value("detail", "");
    r.restore_seconds = v.value("restore_seconds", 0.0);
    r.restored_bytes = v.value("restored_bytes", int64_t{0});
    r.recovery_seconds = v.value("recovery_seconds", 0.0);
    r.replayed_wal_bytes = v.value("replayed_wal_bytes", int64_t{0});
    out[r.backup_id] = r;
  }
  return out;
}

Result<VerificationRecord> VerifyBackup(BackupEngine& engine, const BackupRecord& backup,
                                        const std::string& repo_path, RestoreOptions scratch,
                                        const Progress& progress) {
  Progress clock(true);  // only for the duration
  VerificationRecord record;
  record.backup_id = backup.id;
  record.repo = backup.repo;

  // 1. The stored files against their checksums: cheap, and it names the damaged file, which a
  //    failed restore would not.
  Status files = engine.VerifyStoredFiles(backup.id, backup.repo, scratch.restore_timeout);
  if (!files.ok() && files.code() != StatusCode::kCheckFailed) return files;
  if (files.ok()) progress.Step("stored files of " + backup.id + " match their checksums");

  // 2. Restore into a scratch instance and check it.
  std::string failure;
  if (!files.ok()) {
    failure = files.message();
  } else {
    std::string name = "verify-" + backup.id + "-repo" + std::to_string(backup.repo);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    scratch.name = name;
    scratch.target = RestoreTarget{RestoreTarget::Kind::kBackup, backup.id, 0};
    scratch.repo = backup.repo;
    scratch.primary_admin_dsn.clear();  // a backup target needs no WAL flush
    // A leftover from an interrupted verification would block the name.
    RETURN_IF_ERROR(RemoveInstance(scratch.instances_dir, name, scratch.pg_bin_dir, scratch.run_as,
                                   std::chrono::seconds(60)));
    auto restored = RestoreToNewInstance(engine, scratch, progress);
    if (restored.ok()) {
      // Rates for the predicted RTO: files restored per second, WAL replayed per second (from
      // the backup's start to where the restored server ended recovery).
      record.restore_seconds = restored->restore_seconds;
      record.restored_bytes = backup.size_bytes;
      record.recovery_seconds = restored->recovery_seconds;
      int64_t start = LsnToBytes(backup.lsn_start);
      if (start < 0) start = SegmentStartBytes(backup.wal_start);
      auto end = QueryAdminSql(restored->dsn, "SELECT pg_current_wal_lsn()::text");
      if (start >= 0 && end.ok() && !end->empty()) {
        int64_t end_bytes = LsnToBytes((*end)[0][0]);
        if (end_bytes > start) record.replayed_wal_bytes = end_bytes - start;
      }
    }
    if (!restored.ok()) {
      failure = "restore failed: " + restored.status().message();
    } else if (!restored->checks.Passed()) {
      failure = "integrity checks failed:\n" + RenderIntegrityReport(restored->checks);
    } else {
      for (const auto& [table, rows] : restored->checks.row_counts) {
        record.detail += (record.detail.empty() ? "" : ", ") + table + "=" + std::to_string(rows);
      }
    }
    // 3. The scratch instance goes, whatever the verdict.
    Status removed = RemoveInstance(scratch.instances_dir, name, scratch.pg_bin_dir, scratch.run_as,
                                    std::chrono::seconds(60));
    if (removed.ok()) progress.Step("removed scratch instance " + name);
  }
  record.state = failure.empty() ? "passed" : "failed";
  if (!failure.empty()) record.detail = failure;
  record.verified_at = NowRfc3339();
  record.seconds = clock.Seconds();
  RETURN_IF_ERROR(RecordVerification(repo_path, record));
  return record;
}

}  // namespace auri::dr
