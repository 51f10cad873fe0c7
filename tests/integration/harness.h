#pragma once
// Integration-test harness: one real PostgreSQL 15 cluster and one real Redis server per test
// binary, started in a temporary directory on free loopback ports before the first test and torn
// down after the last (a gtest Environment registered in harness.cc). PostgreSQL runs as the
// `postgres` OS user when the tests run as root.
//
// Each test owns its database (CreateMigratedDatabase / CreateEmptyDatabase give a new one per
// call) and its Redis key prefix (KeyPrefix()), so tests never see each other's data.
#include <string>
#include <vector>

namespace auri::testing {

struct Services {
  std::string home;     // temp directory holding the servers' data and logs
  std::string pg_host;  // 127.0.0.1
  int pg_port = 0;
  std::string pg_user;     // superuser role ("postgres")
  std::string redis_host;  // 127.0.0.1
  int redis_port = 0;
};

// The running services. REQUIRES: called from inside a test (after the Environment set up).
const Services& GetServices();

// DSN of the "postgres" maintenance database of the shared cluster.
std::string AdminDsn();

// Creates a new empty database with a unique name and returns its DSN (libpq keyword/value form).
std::string CreateEmptyDatabase();

// Creates a new database with every embedded migration applied and returns its DSN. Fast: it is
// cloned from a template database migrated once per run.
std::string CreateMigratedDatabase();

// A Redis key prefix unique to the calling test ("t:<suite>.<test>:").
std::string KeyPrefix();

// Stops/starts the shared servers, for tests of outage behaviour. Each call waits (bounded) until
// the server is really down or accepting connections again, and fails the test if it is not.
void StopPostgres();
void StartPostgres();
void StopRedis();
void StartRedis();

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// Path of the built `auri` binary (for tests that run the CLI as a process).
std::string AuriBinary();

// A whole deployment for tests that run `auri up`: its own home under /tmp (mode 0755: the
// postgres user must traverse it) and a free loopback port for every component.
struct StackHome {
  std::string home;
  int api_port = 0, pg_port = 0, redis_port = 0, processor_port = 0, workers_port = 0,
      agent_port = 0;

  // Creates "/tmp/<prefix>-XXXXXX" and picks the ports (fails the calling test when it cannot).
  static StackHome Create(const std::string& prefix);
  // `auri` with --set for the home and every port, then --set for each of `sets`, then `args`.
  std::vector<std::string> Argv(const std::vector<std::string>& sets,
                                const std::vector<std::string>& args) const;
  // Deletes the home (after `auri down`).
  void Remove() const;
};

}  // namespace auri::testing
