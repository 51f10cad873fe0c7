#pragma once
// Config: every setting of Auri, loaded once and then immutable; passed by const reference.
//
// Sources, later ones winning: built-in defaults → the TOML file (`auri.toml`) → environment
// variables `AURI_<SECTION>_<KEY>` (e.g. AURI_API_PORT) → explicit overrides ("api.port=9000"
// from `--set`). Each option is declared once in options.cc; loading, validation, `auri config
// show` and docs/configuration.md are all derived from that one declaration.
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace auri {

struct Config {
  std::string home;  // absolute; everything the embedded stack writes lives below it

  struct Api {
    std::string host;
    int port = 0;
    int threads = 0;
    int body_limit_bytes = 0;
    int header_limit_bytes = 0;
    int read_timeout_seconds = 0;
    int shutdown_timeout_seconds = 0;
    std::vector<std::string> cors_origins;
    int member_role_cache_ms = 0;
    int trigger_cache_ms = 0;
  } api;

  struct Postgres {
    std::string dsn;  // external database; empty = the embedded cluster under <home>/postgres
    std::string host;
    int port = 0;
    std::string database;
    std::string user;
    std::string bin_dir;
    std::string run_as;  // OS user that runs the embedded server when Auri runs as root
    int pool_size = 0;
    int connect_timeout_seconds = 0;
    int statement_timeout_ms = 0;
    // Derived, not options: where the embedded cluster lives. Empty = <home>/postgres/{data,run};
    // set (with `port`) from <home>/postgres/active.json after `auri restore --switch` made a
    // restored instance the stack's database (config/active_database.h).
    std::string data_dir;
    std::string socket_dir;
    std::string active_instance;  // that instance's name; empty = the original cluster
  } postgres;

  struct Redis {
    std::string url;  // external Redis; empty = the embedded server
    std::string host;
    int port = 0;
    std::string server_bin;
    int timeout_ms = 0;
  } redis;

  // Requests per hour by identity (spec 10-api.md, "Rate limiting").
  struct RateLimit {
    int anonymous_per_hour = 0;  // per client IP
    int user_per_hour = 0;       // per user (JWT)
    int free_per_hour = 0;       // per organization (API keys), by plan
    int starter_per_hour = 0;
    int pro_per_hour = 0;
    int enterprise_per_hour = 0;
    int login_per_minute = 0;                  // per client IP on /auth/login and /auth/register
    std::vector<std::string> trusted_proxies;  // peers whose X-Forwarded-For is believed
  } rate_limit;

  struct Supervisor {
    int start_timeout_seconds = 0;
    int stop_timeout_seconds = 0;
    int max_restart_backoff_seconds = 0;
  } supervisor;

  struct Backup {
    int enabled = 0;  // 1: continuous WAL archiving + pgBackRest stanza on `auri up`
    std::string pgbackrest_bin;
    std::string stanza;
    std::string repo1_path;  // empty = <home>/backups/repo1
    std::string repo2_path;  // empty = <home>/backups/repo2; "none" = no second repository
    int archive_timeout_seconds = 0;
    int retention_full_days = 0;
    std::string compress_type;
    int compress_level = 0;
    std::string cipher_type;
    int process_max = 0;  // 0 = cores
    int command_timeout_seconds = 0;
    int ready_timeout_seconds = 0;
    std::string full_schedule;  // dr-agent: cron expression (UTC), "@every 10m", or "off"
    std::string incr_schedule;
    int verify_scheduled = 0;   // 1: the dr-agent verifies every backup it takes
    int lock_wait_seconds = 0;  // manual DR commands wait this long for the DR lock
  } backup;
  struct DrAgent {  // the dr-agent role
    std::string host;
    int metrics_port = 0;
    int status_interval_seconds = 0;
  } dr_agent;
  struct Processor {  // the event-processor role
    std::string host;
    int metrics_port = 0;
    int poll_interval_ms = 0;
    int batch_size = 0;
    int trigger_reload_seconds = 0;
    int maintenance_interval_seconds = 0;
    int partition_months_ahead = 0;
  } processor;

  struct Events {
    int retention_days = 0;
  } events;

  struct Drill {  // `auri drill`: objectives judged as success criteria
    int rto_objective_seconds = 0;
    int rpo_objective_seconds = 0;
    int heartbeat_interval_ms = 0;
  } drill;

  struct Delivery {
    int max_pending = 0;  // the event-processor stops claiming above this many pending jobs
    int concurrency = 0;
    int per_host_concurrency = 0;
    int lease_seconds = 0;
    int poll_interval_ms = 0;
    int max_attempts = 0;
    int retention_days = 0;
    std::string allow_private_destinations;  // "true" | "false" | "auto"
    int metrics_port = 0;                    // 0 = no metrics endpoint
  } delivery;

  struct Telegram {
    std::string api_base;
  } telegram;

  struct Log {
    std::string level;
  } log;

  struct Auth {
    std::string argon2;  // interactive | moderate | minimum (tests only)
  } auth;

  struct Secrets {
    std::string master_key_file;  // empty = <home>/master.key (ignored when AURI_MASTER_KEY is set)
  } secrets;

  // Derived paths and addresses (computed from the fields above, never set directly).
  std::string DatabaseDsn() const;  // libpq keyword/value DSN of the database Auri uses
  std::string AdminDsn() const;     // same server, database "postgres" (for CREATE DATABASE)
  std::string RedisHost() const;
  int RedisPort() const;
  std::string ApiBaseUrl() const;  // "http://127.0.0.1:8480"
  std::string PostgresDataDir() const {
    return postgres.data_dir.empty() ? home + "/postgres/data" : postgres.data_dir;
  }
  std::string PostgresSocketDir() const {  // postgres-owned
    return postgres.socket_dir.empty() ? home + "/postgres/run" : postgres.socket_dir;
  }
  std::string RunDir() const { return home + "/run"; }
  std::string LogDir() const { return home + "/log"; }
  std::string SecretsDir() const { return home + "/secrets"; }
  std::string MasterKeyFile() const;
  std::string BackupDir() const { return home + "/backups"; }       // pgbackrest.conf, spool, logs
  std::string InstancesDir() const { return home + "/instances"; }  // restored instances
  // Paths of the configured repositories, repo1 first (one or two entries).
  std::vector<std::string> BackupRepoPaths() const;
  bool EmbeddedPostgres() const { return postgres.dsn.empty(); }
  bool EmbeddedRedis() const { return redis.url.empty(); }
};

struct ConfigSources {
  std::string file;                        // path of auri.toml; empty = none
  bool file_must_exist = false;            // true when the user named the file explicitly
  std::map<std::string, std::string> env;  // the process environment (only AURI_* are read)
  std::vector<std::string> overrides;      // "section.key=value"
};

// Loads and validates. Errors (kInvalidArgument) name the option, the source and the bad value,
// with a hint; unknown keys in the file are errors so a typo cannot silently do nothing.
Result<Config> LoadConfig(const ConfigSources& sources);

// Collects the current process environment into a map (only AURI_* variables).
std::map<std::string, std::string> AuriEnvironment();

// The effective configuration as TOML (for `auri config show`).
std::string RenderConfigToml(const Config& config);

// Markdown reference of every option (docs/configuration.md is this text; a test keeps them equal).
std::string RenderConfigReference();

}  // namespace auri
