#pragma once
// PgBackRestEngine: the BackupEngine that drives the `pgbackrest` CLI (2.45). Every command runs
// as the settings' run_as user (when Auri runs as root) with --config pointing at Auri's generated
// pgbackrest.conf, under the deadline the caller gives.
#include <string>
#include <vector>

#include "dr/backup_engine.h"
#include "dr/pgbackrest/pgbackrest_config.h"

namespace auri::dr {

class PgBackRestEngine : public BackupEngine {
 public:
  explicit PgBackRestEngine(PgBackRestSettings settings) : settings_(std::move(settings)) {}

  // Writes pgbackrest.conf (mode 0600, owned by run_as) and creates the spool, log and lock
  // directories and every repository directory with the right owner. Idempotent.
  Status WriteConfiguration() const;

  Status PrepareRepositories(std::chrono::milliseconds timeout) override;
  Result<BackupRecord> CreateBackup(BackupType type, const std::string& label, int repo,
                                    std::chrono::milliseconds timeout) override;
  Result<BackupCatalog> List(std::chrono::milliseconds timeout) override;
  Status Expire(std::chrono::milliseconds timeout) override;
  Status Restore(const RestoreRequest& request, std::chrono::milliseconds timeout) override;
  Status VerifyStoredFiles(const std::string& backup_id, int repo,
                           std::chrono::milliseconds timeout) override;

  const PgBackRestSettings& settings() const { return settings_; }

 private:
  // Runs `pgbackrest --config=... --stanza=... <args>`; a non-zero exit is kUnavailable with the
  // command's output and a hint naming the log directory.
  Result<std::string> Run(const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout) const;
  std::string RunAsUser() const;

  PgBackRestSettings settings_;
};

}  // namespace auri::dr
