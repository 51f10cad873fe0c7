#pragma once
// The pgBackRest configuration Auri generates: one pgbackrest.conf under <home>/backups (passed
// with
// --config, never /etc), and the PostgreSQL settings that archive WAL through it. Pure functions of
// the settings, so they are unit-tested without pgBackRest.
#include <string>
#include <vector>

namespace auri::dr {

struct PgBackRestSettings {
  std::string bin = "/usr/bin/pgbackrest";
  std::string config_file;  // <home>/backups/pgbackrest.conf (mode 0600, owned by run_as)
  std::string stanza = "auri";
  std::vector<std::string> repo_paths;      // repo1, repo2, ...
  std::string cipher_type = "aes-256-cbc";  // or "none"
  std::string cipher_pass;                  // REQUIRES: non-empty unless cipher_type is "none"
  std::string compress_type = "zst";
  int compress_level = 1;
  int process_max = 1;
  int retention_full_days = 14;
  std::string spool_path;  // async archive queue
  std::string log_path;
  std::string lock_path;
  std::string pg_data_dir;
  int pg_port = 0;
  std::string pg_socket_dir;
  std::string pg_user = "postgres";
  std::string run_as = "postgres";  // OS user every pgbackrest command runs as (when root)
};

// The text of pgbackrest.conf. It holds the cipher pass: write it mode 0600, owned by run_as.
std::string RenderPgBackRestConfig(const PgBackRestSettings& settings);

// PostgreSQL `-c name=value` settings for continuous archiving: archive_mode=on, wal_level=replica,
// archive_timeout, an archive_command running `pgbackrest archive-push` (asynchronous, to every
// repository), and track_commit_timestamp=on (the RPO exposure needs the newest commit's time).
std::vector<std::string> ArchivingSettings(const PgBackRestSettings& settings,
                                           int archive_timeout_seconds);

// The archive_command of a cluster that pgbackrest.conf does not name (yet): a restored instance
// chosen to become the stack's database (`auri restore --switch`). Its data directory
// (pg_data_dir) and its own spool_path and lock_path are given on the command line, so its
// asynchronous archiver neither reads the old cluster's pg_wal nor waits on the old cluster's
// archive lock.
std::string ArchiveCommandFor(const PgBackRestSettings& settings);

// pgBackRest's time format for a recovery target: "YYYY-MM-DD HH:MM:SS.ffffff+00" (UTC).
std::string FormatRecoveryTime(int64_t unix_us);

}  // namespace auri::dr
