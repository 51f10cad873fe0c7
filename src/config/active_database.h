#pragma once
// The stack's database when it is not the original cluster. `auri restore --switch` makes a
// restored instance the database of the embedded stack; this record, <home>/postgres/active.json,
// says so, and LoadConfig applies it (port, data and socket directories) on top of every other
// source, so every later command and role — `auri up`, `auri status`, backups, `auri dr status` —
// talks to the same server as the switched services. Absent = the original cluster under
// <home>/postgres.
#include <string>

#include "common/result.h"

namespace auri {

struct ActiveDatabase {
  std::string instance;           // name of the restored instance (`auri restore --as NAME`)
  std::string data_dir;           // its data directory
  std::string socket_dir;         // its unix-socket directory
  int port = 0;                   // its port (loopback)
  std::string switched_at;        // RFC 3339, when `--switch` made it the stack's database
  std::string previous_data_dir;  // the database it replaced (stopped, kept on disk)
  int previous_port = 0;
};

// <home>/postgres/active.json
std::string ActiveDatabaseFile(const std::string& home);

// Reads the record. Errors: kNotFound when there is none (the original cluster is the database);
// kInvalidArgument naming the file when it is malformed.
Result<ActiveDatabase> ReadActiveDatabase(const std::string& home);

// Writes the record atomically (mode 0644). Errors: kUnavailable on I/O errors.
Status WriteActiveDatabase(const std::string& home, const ActiveDatabase& record);

}  // namespace auri
