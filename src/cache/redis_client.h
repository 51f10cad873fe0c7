#pragma once
// RedisClient: a small synchronous Redis client over a pool of connections (hiredis underneath;
// hiredis never appears in a header outside src/cache).
//
// Connections are opened lazily, on the first call that needs one. A connection that sees any I/O
// error (refused, reset, closed, timed out) is discarded together with every idle connection
// (after a Redis restart they are all dead), so the call that hit the error fails with
// kUnavailable and the next call connects afresh: the process survives Redis restarts without
// being restarted. Calls are not retried automatically, because a command whose reply was lost may
// already have run (an INCR must not count twice).
//
// Every wait is bounded by RedisOptions::timeout_ms: the TCP connect, each command's write and
// read, and the wait for a free pooled connection. (Resolving a host name is not: use an address.)
//
// Thread-safety: all methods may be called from any number of threads at once.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace auri {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int timeout_ms = 1000;  // connect, per-command and pool-wait deadline; > 0
  int pool_size = 4;      // most connections open at once; > 0
};

// One reply, owned (no hiredis pointers inside). Redis status replies ("+OK") are kString.
class RedisReply {
 public:
  enum class Type { kNil, kInteger, kString, kArray, kError };

  static RedisReply Nil() { return RedisReply(Type::kNil); }
  static RedisReply Integer(int64_t v);
  static RedisReply String(std::string s);
  static RedisReply Error(std::string message);
  static RedisReply Array(std::vector<RedisReply> elements);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_integer() const { return type_ == Type::kInteger; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_error() const { return type_ == Type::kError; }

  // REQUIRES: is_integer(); otherwise 0.
  int64_t integer() const { return integer_; }
  // The bytes of a kString, or the message of a kError; empty for other types.
  const std::string& str() const { return str_; }
  // The elements of a kArray; empty for other types.
  const std::vector<RedisReply>& elements() const { return elements_; }

  // A short rendering for messages and test failures, e.g. `[1, "a", nil]`.
  std::string DebugString() const;

 private:
  explicit RedisReply(Type type) : type_(type) {}
  Type type_;
  int64_t integer_ = 0;
  std::string str_;
  std::vector<RedisReply> elements_;
};

class RedisClient {
 public:
  // Does not connect. REQUIRES: options.timeout_ms > 0 and options.pool_size > 0 (smaller values
  // are raised to 1).
  explicit RedisClient(RedisOptions options);
  // Closes the pooled connections. REQUIRES: no call is in progress.
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Errors common to every call below:
  //   kUnavailable  "redis at HOST:PORT: <reason>" (connection refused, timed out after N ms,
  //                 server closed the connection, all N connections busy, or a server-side
  //                 LOADING/BUSY/READONLY/MASTERDOWN/TRYAGAIN reply), with a hint;
  //   kResourceExhausted  Redis answered OOM;
  //   kInternal     any other error reply (WRONGTYPE, a script error, …): a bug in the caller.

  // PING; OK when Redis answers PONG.
  Status Ping();

  // GET key. kNotFound when the key does not exist.
  Result<std::string> Get(std::string_view key);

  // SET key value, expiring after `ttl_ms` milliseconds (PX) when ttl_ms > 0; 0 = no expiry.
  // kInvalidArgument when ttl_ms < 0.
  Status Set(std::string_view key, std::string_view value, int64_t ttl_ms = 0);

  // INCR key; the value after the increment (a missing key counts from 0).
  Result<int64_t> Incr(std::string_view key);

  // Runs a Lua script with KEYS = `keys` and ARGV = `args` and returns its reply. Sent as EVALSHA
  // (the SHA1 is learned once with SCRIPT LOAD and cached per client); if Redis has lost its script
  // cache (a restart, SCRIPT FLUSH) the script is sent once with EVAL, which reloads it. A script
  // error is kInternal with Redis's message.
  Result<RedisReply> Eval(std::string_view script, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);

  // Any command, binary-safe, e.g. {"PTTL", key}. An error reply is a failed Status (see above);
  // error replies nested inside an array are returned as kError elements.
  Result<RedisReply> Command(const std::vector<std::string>& argv);

  const RedisOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auri
