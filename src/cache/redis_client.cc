#include "cache/redis_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

namespace auri {

// ---------------------------------------------------------------------------------------------
// RedisReply

RedisReply RedisReply::Integer(int64_t v) {
  RedisReply r(Type::kInteger);
  r.integer_ = v;
  return r;
}

RedisReply RedisReply::String(std::string s) {
  RedisReply r(Type::kString);
  r.str_ = std::move(s);
  return r;
}

RedisReply RedisReply::Error(std::string message) {
  RedisReply r(Type::kError);
  r.str_ = std::move(message);
  return r;
}

RedisReply RedisReply::Array(std::vector<RedisReply> elements) {
  RedisReply r(Type::kArray);
  r.elements_ = std::move(elements);
  return r;
}

std::string RedisReply::DebugString() const {
  switch (type_) {
    case Type::kNil:
      return "nil";
    case Type::kInteger:
      return std::to_string(integer_);
    case Type::kString:
      return "\"" + str_ + "\"";
    case Type::kError:
      return "(error " + str_ + ")";
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < elements_.size(); ++i) {
        if (i > 0) out += ", ";
        out += elements_[i].DebugString();
      }
      return out + "]";
    }
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Connection pool

namespace {

using SteadyClock = std::chrono::steady_clock;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

timeval ToTimeval(int ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>(ms % 1000) * 1000;
  return tv;
}

RedisReply Convert(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      return RedisReply::Integer(r->integer);
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return RedisReply::String(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR:
      return RedisReply::Error(std::string(r->str, r->len));
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisReply> elements;
      elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) elements.push_back(Convert(r->element[i]));
      return RedisReply::Array(std::move(elements));
    }
    case REDIS_REPLY_NIL:
    default:
      return RedisReply::Nil();
  }
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

struct RedisClient::Impl {
  explicit Impl(RedisOptions o) : options(std::move(o)) {
    if (options.timeout_ms < 1) options.timeout_ms = 1;
    if (options.pool_size < 1) options.pool_size = 1;
    where = "redis at " + options.host + ":" + std::to_string(options.port);
  }

  Status Unreachable(const std::string& reason) const {
    return Unavailable(where + ": " + reason,
                       "check that Redis is running and reachable at " + options.host + ":" +
                           std::to_string(options.port) +
                           " (redis.host/redis.port); Auri reconnects by itself once it answers");
  }

  // Why a context failed, in the lowercase house style; a timeout says how long we waited.
  Status ContextError(const redisContext* c) const {
    std::string reason = c->errstr;
    if (c->err == REDIS_ERR_IO &&
        (reason == "Resource temporarily unavailable" || reason == "Connection timed out")) {
      reason = "timed out after " + std::to_string(options.timeout_ms) + " ms";
    }
    if (!reason.empty()) {
      reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
    }
    return Unreachable(reason);
  }

  Result<Context> Connect() const {
    timeval tv = ToTimeval(options.timeout_ms);
    Context c(redisConnectWithTimeout(options.host.c_str(), options.port, tv));
    if (!c) return Unreachable("cannot allocate a connection");
    if (c->err) return ContextError(c.get());
    // The connect timeout does not cover commands; without this a hung server blocks forever.
    if (redisSetTimeout(c.get(), tv) != REDIS_OK) return ContextError(c.get());
    // Keepalive lets the kernel notice a peer that vanished without closing the connection.
    (void)redisEnableKeepAlive(c.get());
    return c;
  }

  // A connection to use, idle or new; waits at most until `deadline` for a free slot.
  Result<Context> Acquire(SteadyClock::time_point deadline) {
    {
      std::unique_lock lock(mu);
      bool free =
          cv.wait_until(lock, deadline, [&] { return !idle.empty() || open < options.pool_size; });
      if (!free) {
        return Unreachable("all " + std::to_string(options.pool_size) +
                           " connections stayed busy for " + std::to_string(options.timeout_ms) +
                           " ms");
      }
      if (!idle.empty()) {
        Context c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
      ++open;  // reserve the slot, then connect without holding the lock
    }
    Result<Context> c = Connect();
    if (!c.ok()) Release(nullptr, /*broken=*/true);
    return c;
  }

  // Returns a connection to the pool. A broken one is closed, and so is every idle one: an I/O
  // error usually means Redis went away, and then they are all dead; finding that out one failed
  // call at a time would fail up to pool_size calls after every restart.
  void Release(Context c, bool broken) {
    std::vector<Context> to_close;
    {
      std::lock_guard lock(mu);
      if (broken) {
        if (c) to_close.push_back(std::move(c));
        --open;
        open -= static_cast<int>(idle.size());
        for (auto& i : idle) to_close.push_back(std::move(i));
        idle.clear();
        cv.notify_all();
      } else {
        idle.push_back(std::move(c));
        cv.notify_one();
      }
    }
    // to_close is destroyed here, outside the lock (redisFree closes sockets).
  }

  // Sends one command and reads its reply. Error replies come back as RedisReply::kError; only
  // connection-level failures are a failed Status.
  Result<RedisReply> Execute(const std::vector<std::string>& argv) {
    ASSIGN_OR_RETURN(Context c,
                     Acquire(SteadyClock::now() + std::chrono::milliseconds(options.timeout_ms)));
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    ptrs.reserve(argv.size());
    lens.reserve(argv.size());
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    std::unique_ptr<redisReply, ReplyFree> reply(static_cast<redisReply*>(
        redisCommandArgv(c.get(), static_cast<int>(argv.size()), ptrs.data(), lens.data())));
    if (!reply || c->err) {
      // After an I/O error or timeout hiredis cannot tell where the stream stands: never reuse.
      Status s = ContextError(c.get());
      Release(std::move(c), /*broken=*/true);
      return s;
    }
    RedisReply out = Convert(reply.get());
    Release(std::move(c), /*broken=*/false);
    return out;
  }

  // Maps a top-level error reply to a Status; passes other replies through.
  Result<RedisReply> ToResult(std::string_view command, RedisReply reply) const {
    if (!reply.is_error()) return reply;
    const std::string& e = reply.str();
    std::string message = where + ": " + std::string(command) + " failed: " + e;
    // The server is up but cannot serve right now (loading, busy script, replica, failover):
    // to callers that is the same as Redis being unavailable.
    for (const char* transient : {"LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN"}) {
      if (StartsWith(e, transient)) return Unavailable(message, "retry shortly");
    }
    if (StartsWith(e, "OOM")) {
      return ResourceExhausted(message, "Redis reached maxmemory; raise it or check what fills it");
    }
    return Internal(message);
  }

  RedisOptions options;
  std::string where;  // "redis at HOST:PORT", the start of every message

  std::mutex mu;  // guards idle and open
  std::condition_variable cv;
  std::vector<Context> idle;
  int open = 0;  // connections in use plus idle, and connects in progress

  std::mutex scripts_mu;
  std::map<std::string, std::string, std::less<>> script_sha;  // script text -> SHA1 from Redis
};

// ---------------------------------------------------------------------------------------------
// RedisClient

RedisClient::RedisClient(RedisOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

RedisClient::~RedisClient() = default;

const RedisOptions& RedisClient::options() const { return impl_->options; }

Result<RedisReply> RedisClient::Command(const std::vector<std::string>& argv) {
  if (argv.empty()) return InvalidArgument("empty redis command");
  ASSIGN_OR_RETURN(RedisReply reply, impl_->Execute(argv));
  return impl_->ToResult(argv[0], std::move(reply));
}

Status RedisClient::Ping() {
  ASSIGN_OR_RETURN(RedisReply reply, Command({"PING"}));
  if (reply.is_string() && reply.str() == "PONG") return Status::Ok();
  return Internal(impl_->where + ": unexpected reply to PING: " + reply.DebugString());
}

Result<std::string> RedisClient::Get(std::string_view key) {
  ASSIGN_OR_RETURN(RedisReply reply, Command({"GET", std::string(key)}));
  if (reply.is_nil()) return NotFound("redis key " + std::string(key) + " does not exist");
  if (!reply.is_string()) {
    return Internal(impl_->where + ": unexpected reply to GET: " + reply.DebugString());
  }
  return reply.str();
}

Status RedisClient::Set(std::string_view key, std::string_view value, int64_t ttl_ms) {
  if (ttl_ms < 0) return InvalidArgument("negative redis ttl_ms " + std::to_string(ttl_ms));
  std::vector<std::string> argv = {"SET", std::string(key), std::string(value)};
  if (ttl_ms > 0) {
    argv.push_back("PX");
    argv.push_back(std::to_string(ttl_ms));
  }
  ASSIGN_OR_RETURN(RedisReply reply, Command(argv));
  if (reply.is_string() && reply.str() == "OK") return Status::Ok();
  return Internal(impl_->where + ": unexpected reply to SET: " + reply.DebugString());
}

Result<int64_t> RedisClient::Incr(std::string_view key) {
  ASSIGN_OR_RETURN(RedisReply reply, Command({"INCR", std::string(key)}));
  if (!reply.is_integer()) {
    return Internal(impl_->where + ": unexpected reply to INCR: " + reply.DebugString());
  }
  return reply.integer();
}

Result<RedisReply> RedisClient::Eval(std::string_view script, const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args) {
  std::string sha;
  {
    std::lock_guard lock(impl_->scripts_mu);
    auto it = impl_->script_sha.find(script);
    if (it != impl_->script_sha.end()) sha = it->second;
  }
  if (sha.empty()) {
    ASSIGN_OR_RETURN(RedisReply loaded, Command({"SCRIPT", "LOAD", std::string(script)}));
    if (!loaded.is_string()) {
      return Internal(impl_->where + ": unexpected reply to SCRIPT LOAD: " + loaded.DebugString());
    }
    sha = loaded.str();
    std::lock_guard lock(impl_->scripts_mu);
    impl_->script_sha.emplace(std::string(script), sha);
  }

  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(sha);
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(RedisReply reply, impl_->Execute(argv));
  if (reply.is_error() && StartsWith(reply.str(), "NOSCRIPT")) {
    // Redis lost its script cache (restart or SCRIPT FLUSH). NOSCRIPT means nothing ran, so
    // sending the script itself is safe; EVAL also puts it back in the cache for the next EVALSHA.
    argv[0] = "EVAL";
    argv[1] = std::string(script);
    ASSIGN_OR_RETURN(reply, impl_->Execute(argv));
    return impl_->ToResult("EVAL", std::move(reply));
  }
  return impl_->ToResult("EVALSHA", std::move(reply));
}

}  // namespace auri
