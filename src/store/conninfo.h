#pragma once
// Connecting to PostgreSQL from src/store: DSN parsing, the settings every connection gets, and
// turning a failed connect into a Status that says where without ever showing the password.
//
// Internal to src/store (includes pqxx); the pool and the migration runner share it so that both
// connect the same way.
#include <chrono>
#include <memory>
#include <pqxx/connection>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace auri::store_internal {

// A libpq DSN (keyword/value or postgresql:// URI) parsed into its keywords. Holds the password
// when the DSN has one; never log it, use Endpoint() in messages.
struct ConnInfo {
  std::vector<std::pair<std::string, std::string>> params;  // only keywords with a value

  // The value of `keyword`, or "" when the DSN does not set it.
  std::string Get(const std::string& keyword) const;

  // "host:port/dbname" for messages, e.g. "127.0.0.1:5432/auri"; multi-host DSNs list every
  // host ("h1:5432,h2:5432/auri"). libpq's defaults are shown when the DSN leaves them out.
  std::string Endpoint() const;
};

// Parses `dsn` with libpq's own parser (so every form libpq accepts is accepted).
// Errors: kInvalidArgument when libpq rejects it; the message does not quote the DSN, which may
// contain a password.
Result<ConnInfo> ParseDsn(const std::string& dsn);

// What a new connection gets on top of the DSN.
struct ConnectSettings {
  // Used when the DSN sets no connect_timeout, so no connect waits forever.
  int default_connect_timeout_s = 5;
  // When set, caps the DSN's connect_timeout (rounded up to whole seconds, at least libpq's
  // minimum of 2 s) so a connect made on behalf of a caller with a deadline ends near it.
  std::chrono::milliseconds connect_deadline{0};
  // Session settings sent in the startup packet (so no connection is ever handed out without
  // them); < 0 leaves the server default. 0 means "no limit", as in PostgreSQL.
  int statement_timeout_ms = -1;
  int lock_timeout_ms = -1;
  // false: synchronous_commit = off for the session (a commit returns before its WAL is flushed;
  // a database crash may lose the last ≈ 0.6 s of commits). Only for writes that are safe to
  // lose, see PoolOptions.
  bool synchronous_commit = true;
};

// The conninfo string for one connect: the DSN's keywords plus `settings` (connect_timeout,
// options "-c statement_timeout=.." and "-c synchronous_commit=off" when asked,
// fallback_application_name=auri).
std::string BuildConninfo(const ConnInfo& info, const ConnectSettings& settings);

// Opens a connection. Errors: kUnavailable naming the endpoint, with libpq's reason and a hint.
Result<std::unique_ptr<pqxx::connection>> Connect(const ConnInfo& info,
                                                  const ConnectSettings& settings);

// `text` on one line: newlines and tabs become spaces, runs of spaces collapse, ends trimmed.
// libpq's messages span several lines; Status messages are single-line.
std::string OneLine(std::string text);

}  // namespace auri::store_internal
