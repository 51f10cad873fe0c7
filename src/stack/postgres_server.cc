#include "stack/postgres_server.h"

#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <fstream>
#include <thread>

#include "common/fs.h"
#include "stack/process.h"

namespace auri {
namespace {

bool RunningAsRoot() { return ::geteuid() == 0; }

}  // namespace

std::string TailOfFile(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  " + l + "\n";
  return out;
}

pid_t ReadyPostmasterPid(const std::string& data_dir) {
  // postmaster.pid: line 1 is the postmaster's pid, line 8 its status ("ready" once it accepts
  // connections).
  std::ifstream in(data_dir + "/postmaster.pid");
  std::string line;
  std::vector<std::string> lines;
  while (lines.size() < 8 && std::getline(in, line)) lines.push_back(line);
  if (lines.size() < 8 || lines[7].find("ready") == std::string::npos) return -1;
  pid_t pid = static_cast<pid_t>(std::atol(lines[0].c_str()));
  if (pid <= 0 || !ProcessAlive(pid)) return -1;
  // A stale pid file may name a pid the kernel has since given to another program.
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name.rfind("postgres", 0) == 0 ? pid : -1;
}

Status WakeCheckpointer(const std::string& admin_dsn) {
  return ExecuteAdminSql(admin_dsn, "SELECT pg_reload_conf() WHERE NOT pg_is_in_recovery()");
}

bool PostgresAcceptsConnections(const std::string& host, int port, int timeout_seconds) {
  std::string conninfo = "host=" + host + " port=" + std::to_string(port) +
                         " dbname=postgres connect_timeout=" + std::to_string(timeout_seconds);
  return PQping(conninfo.c_str()) == PQPING_OK;
}

Status ExecuteAdminSql(const std::string& dsn, const std::string& sql) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Unavailable("cannot connect to postgresql: " + err);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(res);
  Status out;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string err = PQresultErrorMessage(res);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    out = Internal("sql failed: " + err);
  }
  PQclear(res);
  PQfinish(conn);
  return out;
}

Result<std::vector<std::vector<std::string>>> QueryAdminSql(const std::string& dsn,
                                                            const std::string& sql,
                                                            size_t max_rows) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Unavailable("cannot connect to postgresql: " + err);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string err = PQresultErrorMessage(res);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    PQclear(res);
    PQfinish(conn);
    return Internal("sql failed: " + err);
  }
  std::vector<std::vector<std::string>> rows;
  int n = PQntuples(res);
  int cols = PQnfields(res);
  if (static_cast<size_t>(n) > max_rows) {
    PQclear(res);
    PQfinish(conn);
    return ResourceExhausted("query returned " + std::to_string(n) + " rows, more than " +
                             std::to_string(max_rows));
  }
  rows.reserve(n);
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> row;
    row.reserve(cols);
    for (int j = 0; j < cols; ++j) {
      row.emplace_back(PQgetisnull(res, i, j) ? "" : PQgetvalue(res, i, j));
    }
    rows.push_back(std::move(row));
  }
  PQclear(res);
  PQfinish(conn);
  return rows;
}

std::string PostgresServer::Dsn(const std::string& dbname) const {
  return "host=" + options_.host + " port=" + std::to_string(options_.port) +
         " user=" + options_.superuser + " dbname=" + dbname + " connect_timeout=5";
}

Status PostgresServer::InitIfNeeded(std::chrono::milliseconds timeout) {
  const auto& o = options_;
  std::string user = RunningAsRoot() ? o.run_as : "";
  // The parent of the data directory must be traversable by the server user; data_dir itself is
  // created by initdb with mode 0700.
  std::string parent = o.data_dir.substr(0, o.data_dir.rfind('/'));
  RETURN_IF_ERROR(MakeDirectories(parent, 0755));
  RETURN_IF_ERROR(MakeDirectories(o.socket_dir, 0755));
  std::string log_dir = o.log_file.substr(0, o.log_file.rfind('/'));
  RETURN_IF_ERROR(MakeDirectories(log_dir, 0755));
  if (!user.empty()) {
    RETURN_IF_ERROR(ChownRecursive(parent, user));
    RETURN_IF_ERROR(ChownRecursive(o.socket_dir, user));
  }
  if (PathExists(o.data_dir + "/PG_VERSION")) return Status::Ok();

  ASSIGN_OR_RETURN(CommandResult r,
                   RunCommand({o.bin_dir + "/initdb", "-D", o.data_dir, "-U", o.superuser,
                               "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"},
                              user, timeout));
  if (r.exit_code != 0) {
    return Unavailable("initdb of " + o.data_dir + " failed:\n" + r.output,
                       "check that " + o.bin_dir +
                           " holds PostgreSQL 15 and that the parent "
                           "directories are traversable by '" +
                           o.run_as + "'");
  }
  // --no-sync made initdb fast; make the new cluster durable once, now.
  ::sync();
  return Status::Ok();
}

Result<pid_t> PostgresServer::Start(int parent_death_signal) {
  const auto& o = options_;
  SpawnOptions spawn;
  spawn.argv = {o.bin_dir + "/postgres",     "-D", o.data_dir,   "-p",
                std::to_string(o.port),      "-k", o.socket_dir, "-c",
                "listen_addresses=" + o.host};
  for (const auto& s : o.settings) {
    spawn.argv.push_back("-c");
    spawn.argv.push_back(s);
  }
  spawn.run_as_user = RunningAsRoot() ? o.run_as : "";
  spawn.log_file = o.log_file;
  spawn.cwd = "/";
  spawn.parent_death_signal = parent_death_signal;
  if (RunningAsRoot() && PathExists(o.log_file)) {
    // The file is opened by us (root) and handed over, but keep it readable for the server user.
    RETURN_IF_ERROR(ChownRecursive(o.log_file, o.run_as));
  }
  return Spawn(spawn);
}

bool PostgresServer::ReportsReady(pid_t pid) const {
  // postmaster.pid: line 1 is the postmaster's pid, line 8 its status ("ready" once it accepts
  // connections). Checking the pid makes sure the server answering is ours, not another one that
  // holds the same port.
  std::ifstream in(options_.data_dir + "/postmaster.pid");
  std::string line;
  std::vector<std::string> lines;
  while (lines.size() < 8 && std::getline(in, line)) lines.push_back(line);
  if (lines.size() < 8 || std::atol(lines[0].c_str()) != static_cast<long>(pid)) return false;
  if (lines[7].find("ready") == std::string::npos) return false;
  return PostgresAcceptsConnections(options_.host, options_.port, 1);
}

Status PostgresServer::WaitReady(pid_t pid, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (ReportsReady(pid)) return Status::Ok();
    auto exited = WaitForExit(pid, std::chrono::milliseconds(0));
    if (exited.ok()) {
      return Unavailable("postgresql on port " + std::to_string(options_.port) + " " +
                             DescribeWaitStatus(*exited) + "; last lines of " + options_.log_file +
                             ":\n" + TailOfFile(options_.log_file, 8),
                         "is the port already in use? set postgres.port to a free one");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded("postgresql on port " + std::to_string(options_.port) +
                              " did not accept connections within " +
                              std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status PostgresServer::Stop(pid_t pid, std::chrono::milliseconds timeout) const {
  return StopProcess(pid, SIGINT, timeout, /*is_child=*/true);
}

Status PostgresServer::EnsureDatabase(const std::string& name) const {
  // Identifiers cannot be bound as parameters; the name comes from our own config, and we still
  // restrict it to a safe alphabet so it can be quoted without surprises.
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
      return InvalidArgument("database name '" + name + "' may only hold letters, digits, _ and -");
    }
  }
  PGconn* conn = PQconnectdb(Dsn("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    return Unavailable("cannot connect to postgresql on port " + std::to_string(options_.port) +
                       ": " + err);
  }
  const char* params[] = {name.c_str()};
  PGresult* res = PQexecParams(conn, "SELECT 1 FROM pg_database WHERE datname = $1", 1, nullptr,
                               params, nullptr, nullptr, 0);
  bool exists = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
  PQclear(res);
  PQfinish(conn);
  if (exists) return Status::Ok();
  Status s = ExecuteAdminSql(Dsn("postgres"), "CREATE DATABASE \"" + name + "\"");
  // Another process may have created it between our check and our CREATE.
  if (!s.ok() && s.message().find("already exists") != std::string::npos) return Status::Ok();
  return s;
}

}  // namespace auri
