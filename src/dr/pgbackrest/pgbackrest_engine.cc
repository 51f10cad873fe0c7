#include "dr/pgbackrest/pgbackrest_engine.h"

#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "common/fs.h"
#include "dr/pgbackrest/info_json.h"
#include "stack/process.h"

namespace auri::dr {
namespace {

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

const char* BackupTypeName(BackupType type) {
  switch (type) {
    case BackupType::kFull:
      return "full";
    case BackupType::kDiff:
      return "diff";
    case BackupType::kIncr:
      return "incr";
  }
  return "full";
}

Result<BackupType> ParseBackupType(const std::string& text) {
  if (text == "full") return BackupType::kFull;
  if (text == "diff") return BackupType::kDiff;
  if (text == "incr") return BackupType::kIncr;
  return InvalidArgument("backup type must be full, diff or incr, got '" + text + "'");
}

std::string PgBackRestEngine::RunAsUser() const {
  return ::geteuid() == 0 ? settings_.run_as : std::string();
}

Status PgBackRestEngine::WriteConfiguration() const {
  const auto& s = settings_;
  std::string user = RunAsUser();
  std::string dir = s.config_file.substr(0, s.config_file.rfind('/'));
  RETURN_IF_ERROR(MakeDirectories(dir, 0755));
  std::vector<std::string> owned = {s.spool_path, s.log_path, s.lock_path};
  owned.insert(owned.end(), s.repo_paths.begin(), s.repo_paths.end());
  for (const auto& path : owned) {
    // Repositories hold encrypted backups: only the server user reads them.
    RETURN_IF_ERROR(MakeDirectories(path, 0750));
    if (!user.empty()) RETURN_IF_ERROR(ChownRecursive(path, user));
  }
  RETURN_IF_ERROR(WriteFileAtomically(s.config_file, RenderPgBackRestConfig(s), 0600));
  if (!user.empty()) RETURN_IF_ERROR(ChownRecursive(s.config_file, user));
  return Status::Ok();
}

Result<std::string> PgBackRestEngine::Run(const std::vector<std::string>& args,
                                          std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {settings_.bin, "--config=" + settings_.config_file,
                                   "--stanza=" + settings_.stanza};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunCommand(argv, RunAsUser(), timeout);
  if (!r.ok()) {
    return r.status().WithContext("pgbackrest " + args.back());
  }
  if (r->exit_code != 0) {
    return Unavailable("pgbackrest " + args.back() + " failed (exit " +
                           std::to_string(r->exit_code) + "): " + Trimmed(r->output),
                       "see the pgBackRest log in " + settings_.log_path);
  }
  return r->output;
}

Status PgBackRestEngine::PrepareRepositories(std::chrono::milliseconds timeout) {
  RETURN_IF_ERROR(WriteConfiguration());
  // stanza-create is idempotent: on an existing, matching stanza it only checks it.
  return Run({"stanza-create"}, timeout).status();
}

Result<BackupRecord> PgBackRestEngine::CreateBackup(BackupType type, const std::string& label,
                                                    int repo, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  ASSIGN_OR_RETURN(BackupCatalog before, List(left()));
  std::set<std::string> known;
  for (const auto& b : before.backups) known.insert(b.id + "/" + std::to_string(b.repo));

  std::vector<std::string> args = {"--repo=" + std::to_string(repo),
                                   std::string("--type=") + BackupTypeName(type)};
  if (!label.empty()) args.push_back("--annotation=label=" + label);
  args.push_back("backup");
  RETURN_IF_ERROR(Run(args, left()).status());

  ASSIGN_OR_RETURN(BackupCatalog after, List(left()));
  for (auto it = after.backups.rbegin(); it != after.backups.rend(); ++it) {
    if (it->repo == repo && !known.count(it->id + "/" + std::to_string(it->repo))) return *it;
  }
  return Internal("pgbackrest backup succeeded but no new backup is listed in repo" +
                  std::to_string(repo));
}

Result<BackupCatalog> PgBackRestEngine::List(std::chrono::milliseconds timeout) {
  // Warnings about an unreachable repository go to stderr and would be mixed into the captured
  // output; the JSON carries each repository's status, so keep the console quiet.
  ASSIGN_OR_RETURN(
      std::string out,
      Run({"--output=json", "--log-level-console=off", "--log-level-stderr=off", "info"}, timeout));
  return ParseInfoJson(out, settings_.stanza);
}

Status PgBackRestEngine::Expire(std::chrono::milliseconds timeout) {
  return Run({"expire"}, timeout).status();
}

Status PgBackRestEngine::Restore(const RestoreRequest& request, std::chrono::milliseconds timeout) {
  std::vector<std::string> args = {"--pg1-path=" + request.data_dir};
  if (request.repo > 0) args.push_back("--repo=" + std::to_string(request.repo));
  switch (request.target.kind) {
    case RestoreTarget::Kind::kLatest:
      // Type "default": replay to the end of the archived WAL, then promote.
      break;
    case RestoreTarget::Kind::kBackup:
      args.push_back("--set=" + request.target.backup_id);
      args.push_back("--type=immediate");
      args.push_back("--target-action=promote");
      break;
    case RestoreTarget::Kind::kTime:
      // pgBackRest picks the newest backup that ended before the target, then PostgreSQL replays
      // WAL and stops before the first commit after it.
      args.push_back("--type=time");
      args.push_back("--target=" + FormatRecoveryTime(request.target.time_unix_us));
      args.push_back("--target-action=promote");
      break;
  }
  args.push_back("restore");
  return Run(args, timeout).status();
}

Status PgBackRestEngine::VerifyStoredFiles(const std::string& backup_id, int repo,
                                           std::chrono::milliseconds timeout) {
  // pgBackRest 2.45's verify exits 0 even when it finds damage; the verdict is in its report
  // ("status: error", "checksum invalid", "missing"), so the report is read at info level.
  ASSIGN_OR_RETURN(std::string out, Run({"--repo=" + std::to_string(repo), "--set=" + backup_id,
                                         "--log-level-console=info", "verify"},
                                        timeout));
  std::istringstream lines(out);
  std::string line, problems;
  bool error = false;
  while (std::getline(lines, line)) {
    if (line.find("command begin") != std::string::npos) continue;  // echoes the options
    if (line.find("status: error") != std::string::npos) error = true;
    if (line.find("invalid") != std::string::npos || line.find("missing") != std::string::npos) {
      error = true;
      auto p = line.find("INFO: ");
      problems += "\n  " + (p == std::string::npos ? line : line.substr(p + 6));
    }
  }
  // On a clean set 2.45 prints only its begin and end lines at info level.
  if (!error && out.find("completed successfully") == std::string::npos) {
    return Unavailable("pgbackrest verify of backup " + backup_id + " in repo" +
                       std::to_string(repo) + " did not complete: " + Trimmed(out));
  }
  if (error) {
    return Status(StatusCode::kCheckFailed,
                  "backup " + backup_id + " in repo" + std::to_string(repo) +
                      " has damaged files:" + problems,
                  "restore from another backup or repository; run `auri backup create` to "
                  "replace this one");
  }
  return Status::Ok();
}

}  // namespace auri::dr
