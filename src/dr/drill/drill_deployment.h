#pragma once
// DrillDeployment: a complete Auri deployment built for one drill — the real `auri` binary
// started with `auri up` under a new temporary home, on free loopback ports, with continuous
// archiving into its own pgBackRest repository — and driven only through the same commands an
// operator types (`auri up|down|backup|restore|verify|manifest|secrets`). The drill may destroy
// it; nothing it does can reach the operator's deployment:
//   * it inherits the operator's config (tool paths, compression, cipher, limits) but every
//     setting that names a place or a port is overridden on the command line (`--set` wins over
//     the file and the environment): home, ports, repositories, master key file, and
//     postgres.dsn / redis.url emptied so it always runs its own servers;
//   * repositories live under its home, so a backup or restore never touches the operator's.
// With --target-running (AttachRunning) it is the operator's own deployment, driven with the
// operator's arguments only; then Remove() stops and deletes nothing.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "stack/process.h"

namespace auri::dr {

struct DrillDeploymentOptions {
  std::string auri_exe;                  // absolute path of the auri binary
  std::vector<std::string> config_args;  // the operator's "--config FILE" / "--set k=v" arguments
  std::string tmp_parent = "/tmp";       // the home is <tmp_parent>/auri-drill-XXXXXX
  std::string superuser = "postgres";    // postgres.user of the deployment
  std::string database = "auri";         // postgres.database
};

class DrillDeployment {
 public:
  // Creates the home (mode 0755: the postgres user must traverse it) and picks six distinct free
  // ports. Starts nothing. Errors: kUnavailable when the directory or the ports cannot be had.
  static Result<DrillDeployment> CreateThrowaway(const DrillDeploymentOptions& options);

  // The operator's running deployment as configured (`home`, its gateway URL and superuser DSNs).
  static DrillDeployment AttachRunning(const DrillDeploymentOptions& options, std::string home,
                                       std::string api_url, std::string admin_dsn, std::string dsn);

  bool throwaway() const { return running_api_url_.empty(); }

  const std::string& home() const { return home_; }
  int api_port() const { return api_port_; }
  int postgres_port() const { return postgres_port_; }
  std::string ApiUrl() const {
    return throwaway() ? "http://127.0.0.1:" + std::to_string(api_port_) : running_api_url_;
  }
  std::string RepoPath() const { return home_ + "/backups/repo1"; }
  std::string DataDir() const { return home_ + "/postgres/data"; }
  // Superuser DSNs of the embedded cluster: database "postgres" and the Auri database.
  std::string AdminDsn() const;
  std::string Dsn() const;

  // After a recovery the services run against another database (a restored instance): every
  // later command gets `--set postgres.dsn=DSN`. Empty = the embedded cluster again.
  void UseDatabase(const std::string& dsn) { database_dsn_ = dsn; }

  // Runs `auri <config args> <overrides> args...` with a deadline; output captured.
  Result<CommandResult> Auri(const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout) const;
  // As Auri, but a non-zero exit becomes kUnavailable carrying the command's output tail.
  Result<CommandResult> AuriOk(const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout) const;

  // Writes <home>/auri: a shell script running this binary with the deployment's arguments (for
  // --keep and debugging: `<home>/auri status`, `<home>/auri down`). Rewritten after UseDatabase.
  Status WriteWrapper() const;

  Status Up() const;
  Status Down() const;
  // The ingest token from the deployment's secret store (`auri secrets show … --reveal`).
  Result<std::string> IngestToken() const;
  // The pid of a component from the run file (`auri status` reads the same file).
  Result<pid_t> ComponentPid(const std::string& name) const;

  // Throwaway: stops everything the deployment started (stack, restored instances) and deletes
  // the home. Best effort, idempotent; returns the first failure. Running: does nothing.
  Status Remove() const;

 private:
  std::vector<std::string> Overrides() const;

  DrillDeploymentOptions o_;
  std::string home_;
  int api_port_ = 0, postgres_port_ = 0, redis_port_ = 0, processor_port_ = 0, workers_port_ = 0,
      dr_agent_port_ = 0;
  std::string database_dsn_;
  std::string running_api_url_, running_admin_dsn_, running_dsn_;  // AttachRunning only
};

// The last JSON document in a command's output (progress lines come first), or a discarded
// value. Exposed for the drill and its tests.
std::string LastJsonDocument(const std::string& output);

}  // namespace auri::dr
