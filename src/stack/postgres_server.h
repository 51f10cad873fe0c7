#pragma once
// PostgresServer: one local PostgreSQL 15 cluster that Auri owns (the embedded stack, the test
// harness and, later, drills). The postmaster runs as a direct child (no pg_ctl in between) so the
// supervisor sees its exit; when Auri runs as root it runs as `run_as` (PostgreSQL refuses root).
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"

namespace auri {

struct PostgresServerOptions {
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  std::string data_dir;    // created by Init
  std::string socket_dir;  // outside data_dir (pg_basebackup/pg_rewind trip over it otherwise)
  std::string log_file;    // server output
  std::string host = "127.0.0.1";
  int port = 0;
  std::string run_as = "postgres";  // used only when the current user is root
  std::string superuser = "postgres";
  // Extra `-c name=value` settings (e.g. archive_mode later, or fsync=off in tests).
  std::vector<std::string> settings;
};

class PostgresServer {
 public:
  explicit PostgresServer(PostgresServerOptions options) : options_(std::move(options)) {}

  // initdb when data_dir holds no cluster yet (idempotent); creates socket_dir and the log file's
  // directory with the right owner.
  Status InitIfNeeded(std::chrono::milliseconds timeout);

  // Starts the postmaster as a child and returns its pid. Does not wait for readiness.
  // `parent_death_signal` is passed to SpawnOptions (SIGINT = fast shutdown if we die).
  Result<pid_t> Start(int parent_death_signal = 0);

  // Polls until postmaster `pid` reports ready in its postmaster.pid and accepts connections, at
  // most `timeout`; another server answering on the same port does not count. Fails fast
  // (kUnavailable, with the log's last lines) if the postmaster exits.
  Status WaitReady(pid_t pid, std::chrono::milliseconds timeout) const;

  // Fast shutdown (SIGINT) of child `pid`, escalating to SIGKILL after `timeout`.
  Status Stop(pid_t pid, std::chrono::milliseconds timeout) const;

  // CREATE DATABASE `name` unless it exists. Errors: kUnavailable when the server cannot be
  // reached.
  Status EnsureDatabase(const std::string& name) const;

  // libpq keyword/value DSN for `dbname` on this server (TCP, superuser).
  std::string Dsn(const std::string& dbname) const;

  const PostgresServerOptions& options() const { return options_; }

 private:
  // True when postmaster `pid` (ours) says it is ready and the port answers.
  bool ReportsReady(pid_t pid) const;
  PostgresServerOptions options_;
};

// The pid of the postmaster running on `data_dir` when its postmaster.pid says it is ready and
// that process is alive; -1 otherwise (no server, starting, stopping, or a stale pid file).
pid_t ReadyPostmasterPid(const std::string& data_dir);

// SELECT pg_reload_conf() on the server of `admin_dsn`, once it has left recovery. Needed after
// every start of an archiving server: a checkpointer that computed its sleep while the server was
// still starting up (in recovery) sleeps a whole checkpoint_timeout (5 min) before it looks at
// archive_timeout again (PostgreSQL 15, observed here) — commits made meanwhile stay unarchived
// for minutes instead of archive_timeout seconds. The reload wakes it. Errors: those of
// ExecuteAdminSql.
Status WakeCheckpointer(const std::string& admin_dsn);

// True when the server at host:port answers (PQping == PQPING_OK), with a connect timeout.
bool PostgresAcceptsConnections(const std::string& host, int port, int timeout_seconds);

// Runs one SQL statement (no result rows needed) through libpq. For cluster administration only;
// application queries go through src/store.
Status ExecuteAdminSql(const std::string& dsn, const std::string& sql);

// Runs one SQL query through libpq and returns its rows as text (NULL = empty string), at most
// `max_rows` rows. For cluster administration and DR checks only; application queries go through
// src/store. Errors: kUnavailable (cannot connect), kInternal (the statement failed, with the
// server's message), kResourceExhausted (more than `max_rows` rows).
Result<std::vector<std::vector<std::string>>> QueryAdminSql(const std::string& dsn,
                                                            const std::string& sql,
                                                            size_t max_rows = 100000);

// The last `lines` lines of a text file (for error messages that point at a log).
std::string TailOfFile(const std::string& path, int lines);

}  // namespace auri
