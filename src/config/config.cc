#include "config/config.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <sstream>

#include "config/active_database.h"

extern char** environ;

namespace auri {
namespace {

enum class Kind { kString, kInt, kStringList };

// One option, declared once. `field` returns the address of the option's member in a Config.
struct Option {
  const char* key;  // "section.name"
  Kind kind;
  const char* default_value;  // string form; lists are comma-separated
  long min_value;             // ints only
  long max_value;
  const char* help;
  void* (*field)(Config&);
};

#define FIELD(member) [](Config& c) -> void* { return &c.member; }

// The one declaration of every option. Defaults pick ports away from the usual ones so an embedded
// stack does not collide with a system PostgreSQL/Redis on the same machine.
const Option kOptions[] = {
    {"general.home", Kind::kString, "./var", 0, 0,
     "Directory for everything the embedded stack writes (data, logs, secrets, run files).",
     FIELD(home)},
    {"api.host", Kind::kString, "127.0.0.1", 0, 0, "Address the api-gateway listens on.",
     FIELD(api.host)},
    {"api.port", Kind::kInt, "8480", 1, 65535, "Port the api-gateway listens on.", FIELD(api.port)},
    {"api.threads", Kind::kInt, "16", 1, 256,
     "Threads of the api-gateway. Handlers run on them and wait for the database, so this is "
     "also how many requests are handled at once; keep postgres.pool_size at least as large.",
     FIELD(api.threads)},
    {"api.body_limit_bytes", Kind::kInt, "1048576", 1024, 64 << 20,
     "Largest request body accepted; larger gets 413 payload_too_large.",
     FIELD(api.body_limit_bytes)},
    {"api.header_limit_bytes", Kind::kInt, "16384", 1024, 1 << 20,
     "Largest request header block accepted; larger closes the connection with 431.",
     FIELD(api.header_limit_bytes)},
    {"api.read_timeout_seconds", Kind::kInt, "30", 1, 3600,
     "Deadline for reading one whole request (slow clients are cut off).",
     FIELD(api.read_timeout_seconds)},
    {"api.shutdown_timeout_seconds", Kind::kInt, "10", 1, 600,
     "On SIGTERM, how long in-flight requests may take before the server stops anyway.",
     FIELD(api.shutdown_timeout_seconds)},
    {"api.cors_origins", Kind::kStringList, "", 0, 0,
     "Origins allowed by CORS (comma-separated in the environment); empty = no CORS headers.",
     FIELD(api.cors_origins)},
    {"api.member_role_cache_ms", Kind::kInt, "1000", 0, 60000,
     "How long the gateway reuses a user's membership role (per user and organization) before "
     "asking the database again; 0 = always ask. A member removed or demoted by another process "
     "keeps the old role for at most this long; changes made through the same gateway apply at "
     "once.",
     FIELD(api.member_role_cache_ms)},
    {"api.trigger_cache_ms", Kind::kInt, "1000", 0, 60000,
     "How long the gateway may serve GET /api/v1/triggers/{id} from memory (entries keyed by "
     "trigger, at most 10,000) before reading the database again; 0 = always read. Changes made "
     "through the same gateway apply at once; changes made elsewhere (SQL, another replica) apply "
     "when their NOTIFY trigger_changed arrives, and after at most this long if it is missed. "
     "Authorization is checked on every request.",
     FIELD(api.trigger_cache_ms)},
    {"postgres.dsn", Kind::kString, "", 0, 0,
     "libpq DSN of an external database. Empty = Auri runs its own PostgreSQL under <home>.",
     FIELD(postgres.dsn)},
    {"postgres.host", Kind::kString, "127.0.0.1", 0, 0, "Address of the embedded PostgreSQL.",
     FIELD(postgres.host)},
    {"postgres.port", Kind::kInt, "15432", 1, 65535, "Port of the embedded PostgreSQL.",
     FIELD(postgres.port)},
    {"postgres.database", Kind::kString, "auri", 0, 0, "Database name.", FIELD(postgres.database)},
    {"postgres.user", Kind::kString, "postgres", 0, 0, "Database role Auri connects as.",
     FIELD(postgres.user)},
    {"postgres.bin_dir", Kind::kString, "/usr/lib/postgresql/15/bin", 0, 0,
     "Where initdb/postgres/pg_ctl live.", FIELD(postgres.bin_dir)},
    {"postgres.run_as", Kind::kString, "postgres", 0, 0,
     "OS user that runs the embedded server when Auri runs as root (PostgreSQL refuses root).",
     FIELD(postgres.run_as)},
    {"postgres.pool_size", Kind::kInt, "16", 1, 512, "Connections per process.",
     FIELD(postgres.pool_size)},
    {"postgres.connect_timeout_seconds", Kind::kInt, "3", 1, 60,
     "Deadline for opening one connection.", FIELD(postgres.connect_timeout_seconds)},
    {"postgres.statement_timeout_ms", Kind::kInt, "5000", 10, 3600000,
     "statement_timeout set on every connection.", FIELD(postgres.statement_timeout_ms)},
    {"redis.url", Kind::kString, "", 0, 0,
     "redis://host:port of an external Redis. Empty = Auri runs its own, without persistence.",
     FIELD(redis.url)},
    {"redis.host", Kind::kString, "127.0.0.1", 0, 0, "Address of the embedded Redis.",
     FIELD(redis.host)},
    {"redis.port", Kind::kInt, "16379", 1, 65535, "Port of the embedded Redis.", FIELD(redis.port)},
    {"redis.server_bin", Kind::kString, "/usr/bin/redis-server", 0, 0,
     "The redis-server binary for the embedded Redis.", FIELD(redis.server_bin)},
    {"redis.timeout_ms", Kind::kInt, "500", 10, 60000,
     "Deadline for connecting to Redis and for each command.", FIELD(redis.timeout_ms)},
    {"rate_limit.anonymous_per_hour", Kind::kInt, "100", 1, 100000000,
     "Requests per hour from one client IP without credentials.",
     FIELD(rate_limit.anonymous_per_hour)},
    {"rate_limit.user_per_hour", Kind::kInt, "5000", 1, 100000000,
     "Requests per hour from one user (JWT access token).", FIELD(rate_limit.user_per_hour)},
    {"rate_limit.free_per_hour", Kind::kInt, "1000", 1, 100000000,
     "Requests per hour for an organization on the free plan (API keys).",
     FIELD(rate_limit.free_per_hour)},
    {"rate_limit.starter_per_hour", Kind::kInt, "5000", 1, 100000000,
     "Requests per hour for an organization on the starter plan.",
     FIELD(rate_limit.starter_per_hour)},
    {"rate_limit.pro_per_hour", Kind::kInt, "20000", 1, 100000000,
     "Requests per hour for an organization on the pro plan.", FIELD(rate_limit.pro_per_hour)},
    {"rate_limit.enterprise_per_hour", Kind::kInt, "100000", 1, 100000000,
     "Requests per hour for an organization on the enterprise plan.",
     FIELD(rate_limit.enterprise_per_hour)},
    {"rate_limit.login_per_minute", Kind::kInt, "10", 1, 100000,
     "Login and register attempts per minute from one client IP (brute-force guard).",
     FIELD(rate_limit.login_per_minute)},
    {"rate_limit.trusted_proxies", Kind::kStringList, "", 0, 0,
     "IP addresses of reverse proxies whose X-Forwarded-For names the real client.",
     FIELD(rate_limit.trusted_proxies)},
    {"supervisor.start_timeout_seconds", Kind::kInt, "60", 1, 3600,
     "How long `auri up` waits for the whole stack to become healthy.",
     FIELD(supervisor.start_timeout_seconds)},
    {"supervisor.stop_timeout_seconds", Kind::kInt, "30", 1, 3600,
     "How long `auri down` waits for each component before killing it.",
     FIELD(supervisor.stop_timeout_seconds)},
    {"supervisor.max_restart_backoff_seconds", Kind::kInt, "30", 1, 3600,
     "Longest wait before restarting a crashed component (backoff doubles from 0.5 s).",
     FIELD(supervisor.max_restart_backoff_seconds)},
    {"backup.enabled", Kind::kInt, "1", 0, 1,
     "1 = `auri up` archives WAL continuously with pgBackRest and keeps the stanza ready for "
     "`auri backup`; 0 = no archiving.",
     FIELD(backup.enabled)},
    {"backup.pgbackrest_bin", Kind::kString, "/usr/bin/pgbackrest", 0, 0,
     "The pgBackRest executable (Debian package pgbackrest 2.45).", FIELD(backup.pgbackrest_bin)},
    {"backup.stanza", Kind::kString, "auri", 0, 0, "pgBackRest stanza name of the cluster.",
     FIELD(backup.stanza)},
    {"backup.repo1_path", Kind::kString, "", 0, 0,
     "Repository 1 (same region). Empty = <home>/backups/repo1.", FIELD(backup.repo1_path)},
    {"backup.repo2_path", Kind::kString, "", 0, 0,
     "Repository 2 (the backup region: another disk or host mount). Empty = "
     "<home>/backups/repo2; \"none\" = one repository only.",
     FIELD(backup.repo2_path)},
    {"backup.archive_timeout_seconds", Kind::kInt, "5", 1, 3600,
     "PostgreSQL archive_timeout: the longest an idle WAL segment waits before it is archived "
     "(bounds the RPO when only the repository survives).",
     FIELD(backup.archive_timeout_seconds)},
    {"backup.retention_full_days", Kind::kInt, "14", 1, 3650,
     "Keep full backups (and the WAL they need) for this many days (pgBackRest time retention).",
     FIELD(backup.retention_full_days)},
    {"backup.compress_type", Kind::kString, "zst", 0, 0, "none | gz | lz4 | zst | bz2.",
     FIELD(backup.compress_type)},
    {"backup.compress_level", Kind::kInt, "1", 1, 19,
     "pgBackRest compress-level. zst 1 keeps backups CPU-light (on 2 cores level 3 made a backup "
     "slower than pg_basebackup by more than the 1.5x objective); gz/lz4 accept 1-9 / 1-12.",
     FIELD(backup.compress_level)},
    {"backup.cipher_type", Kind::kString, "aes-256-cbc", 0, 0,
     "Repository encryption: aes-256-cbc (pass: secret `backup-cipher-pass`) or none.",
     FIELD(backup.cipher_type)},
    {"backup.process_max", Kind::kInt, "0", 0, 64,
     "Parallel pgBackRest processes for backup/restore; 0 = the machine's cores.",
     FIELD(backup.process_max)},
    {"backup.command_timeout_seconds", Kind::kInt, "3600", 10, 86400,
     "Deadline of one pgBackRest command (backup, restore, verify, expire).",
     FIELD(backup.command_timeout_seconds)},
    {"backup.ready_timeout_seconds", Kind::kInt, "300", 5, 86400,
     "Deadline for a restored instance to finish recovery and accept writes.",
     FIELD(backup.ready_timeout_seconds)},
    {"backup.full_schedule", Kind::kString, "0 3 * * *", 0, 0,
     "When the dr-agent takes a full backup (into every repository): a 5-field cron expression "
     "in UTC (minute hour day-of-month month day-of-week; *, lists, ranges, */steps), @hourly, "
     "@daily, @weekly, \"@every 30m\" (s, m, h) or \"off\". A time missed while the agent was "
     "down is caught up once when it starts.",
     FIELD(backup.full_schedule)},
    {"backup.incr_schedule", Kind::kString, "0 * * * *", 0, 0,
     "When the dr-agent takes an incremental backup (same syntax as backup.full_schedule). When "
     "both are due, the full backup is taken.",
     FIELD(backup.incr_schedule)},
    {"backup.verify_scheduled", Kind::kInt, "1", 0, 1,
     "1 = the dr-agent verifies every backup it takes (restore into a scratch instance + "
     "integrity checks), which also measures the restore and replay rates of the predicted RTO.",
     FIELD(backup.verify_scheduled)},
    {"backup.lock_wait_seconds", Kind::kInt, "600", 0, 86400,
     "How long a manual DR command (backup, verify, expire, restore) waits for the DR lock while "
     "another one (e.g. the dr-agent's scheduled backup) holds it; 0 = refuse at once (exit 4).",
     FIELD(backup.lock_wait_seconds)},
    {"dr_agent.host", Kind::kString, "127.0.0.1", 0, 0,
     "Address the dr-agent serves /metrics and /health on.", FIELD(dr_agent.host)},
    {"dr_agent.metrics_port", Kind::kInt, "8483", 1, 65535,
     "Port the dr-agent serves /metrics and /health on (backup age, verification, WAL archive "
     "lag, restorable window, predicted RTO).",
     FIELD(dr_agent.metrics_port)},
    {"dr_agent.status_interval_seconds", Kind::kInt, "15", 1, 3600,
     "How often the dr-agent refreshes the DR status behind its metrics (one `pgbackrest info` "
     "and a few queries).",
     FIELD(dr_agent.status_interval_seconds)},
    {"processor.host", Kind::kString, "127.0.0.1", 0, 0,
     "Address the event-processor serves /metrics and /health on.", FIELD(processor.host)},
    {"processor.metrics_port", Kind::kInt, "8481", 1, 65535,
     "Port the event-processor serves /metrics and /health on.", FIELD(processor.metrics_port)},
    {"processor.poll_interval_ms", Kind::kInt, "1000", 10, 60000,
     "Polling fallback of the event-processor: a lost NOTIFY delays an event by at most this.",
     FIELD(processor.poll_interval_ms)},
    {"processor.batch_size", Kind::kInt, "100", 1, 10000,
     "Events claimed and evaluated per transaction.", FIELD(processor.batch_size)},
    {"processor.trigger_reload_seconds", Kind::kInt, "30", 1, 3600,
     "Full reload of the trigger index (safety net for a lost trigger_changed notification).",
     FIELD(processor.trigger_reload_seconds)},
    {"processor.maintenance_interval_seconds", Kind::kInt, "3600", 10, 86400,
     "How often the event-processor creates event partitions ahead and applies retention.",
     FIELD(processor.maintenance_interval_seconds)},
    {"processor.partition_months_ahead", Kind::kInt, "3", 1, 120,
     "Monthly event partitions kept created ahead of the current month.",
     FIELD(processor.partition_months_ahead)},
    {"events.retention_days", Kind::kInt, "365", 1, 36500,
     "Event partitions older than this are dropped by the event-processor's maintenance.",
     FIELD(events.retention_days)},
    {"drill.rto_objective_seconds", Kind::kInt, "20", 1, 86400,
     "`auri drill` fails unless the disaster → first acknowledged API write time is at most "
     "this (spec 40-dr.md: restore, switch and verify ≤ 20 s for 1 GiB).",
     FIELD(drill.rto_objective_seconds)},
    {"drill.rpo_objective_seconds", Kind::kInt, "5", 0, 86400,
     "`auri drill snapshot-restore` fails when acknowledged writes older than this are lost "
     "(spec 40-dr.md: ≤ 5 s with continuous archiving).",
     FIELD(drill.rpo_objective_seconds)},
    {"drill.heartbeat_interval_ms", Kind::kInt, "100", 10, 10000,
     "How often a drill's heartbeat writer commits an event through the API (RPO/RTO resolution).",
     FIELD(drill.heartbeat_interval_ms)},
    {"delivery.max_pending", Kind::kInt, "100000", 1, 1000000000,
     "Back pressure: above this many pending action jobs the event-processor stops claiming.",
     FIELD(delivery.max_pending)},
    {"delivery.concurrency", Kind::kInt, "256", 1, 10000,
     "Requests in flight per action-workers process (one curl-multi event loop).",
     FIELD(delivery.concurrency)},
    {"delivery.per_host_concurrency", Kind::kInt, "32", 1, 10000,
     "Requests in flight to one destination host, so a slow receiver cannot starve the others.",
     FIELD(delivery.per_host_concurrency)},
    {"delivery.lease_seconds", Kind::kInt, "60", 1, 3600,
     "Lease on a claimed job; a dead worker's jobs become claimable again after it.",
     FIELD(delivery.lease_seconds)},
    {"delivery.poll_interval_ms", Kind::kInt, "1000", 10, 1000,
     "Polling fallback for due jobs (retries, missed NOTIFYs); LISTEN wakes workers sooner.",
     FIELD(delivery.poll_interval_ms)},
    {"delivery.max_attempts", Kind::kInt, "5", 1, 100,
     "Most delivery attempts of one job (caps the job's own max_attempts) before it is dead.",
     FIELD(delivery.max_attempts)},
    {"delivery.retention_days", Kind::kInt, "30", 1, 3650,
     "Finished jobs and results older than this are purged (hourly).",
     FIELD(delivery.retention_days)},
    {"delivery.allow_private_destinations", Kind::kString, "auto", 0, 0,
     "true | false | auto. Whether deliveries may reach loopback, private, link-local or metadata "
     "addresses. auto = false, except loopback with the embedded stack (`auri up` without "
     "postgres.dsn), which logs a warning at start.",
     FIELD(delivery.allow_private_destinations)},
    {"delivery.metrics_port", Kind::kInt, "8482", 0, 65535,
     "Port of the action-workers' Prometheus /metrics endpoint on 127.0.0.1; 0 = none.",
     FIELD(delivery.metrics_port)},
    {"telegram.api_base", Kind::kString, "https://api.telegram.org", 0, 0,
     "Base URL of the Telegram Bot API (tests point it at a local fake).",
     FIELD(telegram.api_base)},
    {"log.level", Kind::kString, "info", 0, 0, "debug | info | warn | error.", FIELD(log.level)},
    {"auth.argon2", Kind::kString, "interactive", 0, 0,
     "Argon2id cost for passwords and API keys: interactive (64 MiB, the default) | moderate "
     "(256 MiB, slower) | minimum (tests only: protects nothing).",
     FIELD(auth.argon2)},
    {"secrets.master_key_file", Kind::kString, "", 0, 0,
     "Key file (mode 0600) holding the master key; empty = <home>/master.key. "
     "AURI_MASTER_KEY (base64 of 32 bytes) takes precedence.",
     FIELD(secrets.master_key_file)},
};

#undef FIELD

std::string EnvName(const char* key) {
  std::string name = "AURI_";
  for (const char* p = key; *p; ++p) {
    name.push_back(*p == '.' ? '_'
                             : static_cast<char>(std::toupper(static_cast<unsigned char>(*p))));
  }
  return name;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Status SetFromString(const Option& opt, const std::string& value, const std::string& source,
                     Config* config) {
  void* field = opt.field(*config);
  switch (opt.kind) {
    case Kind::kString:
      *static_cast<std::string*>(field) = value;
      return Status::Ok();
    case Kind::kStringList:
      *static_cast<std::vector<std::string>*>(field) = SplitList(value);
      return Status::Ok();
    case Kind::kInt: {
      errno = 0;
      char* end = nullptr;
      long v = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno == ERANGE || v < opt.min_value ||
          v > opt.max_value) {
        return InvalidArgument("option " + std::string(opt.key) + " from " + source +
                                   ": expected an integer in " + std::to_string(opt.min_value) +
                                   ".." + std::to_string(opt.max_value) + ", got '" + value + "'",
                               "fix the value or remove it to use the default");
      }
      *static_cast<int*>(field) = static_cast<int>(v);
      return Status::Ok();
    }
  }
  return Internal("unknown option kind");
}

const Option* FindOption(std::string_view key) {
  for (const Option& opt : kOptions) {
    if (key == opt.key) return &opt;
  }
  return nullptr;
}

// Converts one TOML value to the option's string form, checking its type.
Result<std::string> TomlValueToString(const Option& opt, const toml::node& node,
                                      const std::string& source) {
  auto type_error = [&](const char* expected) {
    return InvalidArgument("option " + std::string(opt.key) + " in " + source + ": expected " +
                           expected);
  };
  switch (opt.kind) {
    case Kind::kString:
      if (auto v = node.value<std::string>(); v && node.is_string()) return *v;
      return type_error("a string");
    case Kind::kInt:
      if (auto v = node.value<int64_t>(); v && node.is_integer()) return std::to_string(*v);
      return type_error("an integer");
    case Kind::kStringList: {
      const toml::array* arr = node.as_array();
      if (!arr) return type_error("an array of strings");
      std::string joined;
      for (const toml::node& item : *arr) {
        if (!item.is_string()) return type_error("an array of strings");
        if (!joined.empty()) joined.push_back(',');
        joined += *item.value<std::string>();
      }
      return joined;
    }
  }
  return Internal("unknown option kind");
}

Status ApplyTomlFile(const std::string& path, Config* config) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "cannot parse " << path << " at line " << e.source().begin.line << ": "
        << e.description();
    return InvalidArgument(msg.str(), "see config/auri.example.toml for the format");
  }
  for (const auto& [section, node] : root) {
    const toml::table* table = node.as_table();
    if (!table) {
      return InvalidArgument(path + ": top-level key '" + std::string(section.str()) +
                             "' must be a [section]");
    }
    for (const auto& [name, value] : *table) {
      std::string key = std::string(section.str()) + "." + std::string(name.str());
      const Option* opt = FindOption(key);
      if (!opt) {
        return InvalidArgument(path + ": unknown option '" + key + "'",
                               "see docs/configuration.md for the list of options");
      }
      ASSIGN_OR_RETURN(std::string text, TomlValueToString(*opt, value, path));
      RETURN_IF_ERROR(SetFromString(*opt, text, path, config));
    }
  }
  return Status::Ok();
}

std::string MakeAbsolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) return path;
  std::string base(cwd);
  std::string rel = path;
  while (rel.rfind("./", 0) == 0) rel = rel.substr(2);
  if (rel == ".") return base;
  return base + "/" + rel;
}

Status Validate(const Config& c) {
  if (c.log.level != "debug" && c.log.level != "info" && c.log.level != "warn" &&
      c.log.level != "error") {
    return InvalidArgument("option log.level: expected debug|info|warn|error, got '" + c.log.level +
                           "'");
  }
  if (c.auth.argon2 != "interactive" && c.auth.argon2 != "moderate" && c.auth.argon2 != "minimum") {
    return InvalidArgument("option auth.argon2: expected interactive|moderate|minimum, got '" +
                           c.auth.argon2 + "'");
  }
  if (c.home.empty()) return InvalidArgument("option general.home must not be empty");
  const std::string& ct = c.backup.compress_type;
  if (ct != "none" && ct != "gz" && ct != "lz4" && ct != "zst" && ct != "bz2") {
    return InvalidArgument("option backup.compress_type: expected none|gz|lz4|zst|bz2, got '" + ct +
                           "'");
  }
  if (c.backup.cipher_type != "aes-256-cbc" && c.backup.cipher_type != "none") {
    return InvalidArgument("option backup.cipher_type: expected aes-256-cbc|none, got '" +
                           c.backup.cipher_type + "'");
  }
  for (char ch : c.backup.stanza) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-')) {
      return InvalidArgument("option backup.stanza may only hold letters, digits, _ and -");
    }
  }
  if (!c.redis.url.empty() && c.redis.url.rfind("redis://", 0) != 0) {
    return InvalidArgument("option redis.url: expected redis://host:port, got '" + c.redis.url +
                           "'");
  }
  const std::string& apd = c.delivery.allow_private_destinations;
  if (apd != "true" && apd != "false" && apd != "auto") {
    return InvalidArgument(
        "option delivery.allow_private_destinations: expected true|false|auto, got '" + apd + "'");
  }
  return Status::Ok();
}

std::string QuoteDsnValue(const std::string& v) {
  std::string out = "'";
  for (char ch : v) {
    if (ch == '\'' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

Result<Config> LoadConfig(const ConfigSources& sources) {
  Config config;
  for (const Option& opt : kOptions) {
    RETURN_IF_ERROR(SetFromString(opt, opt.default_value, "defaults", &config));
  }
  if (!sources.file.empty()) {
    if (::access(sources.file.c_str(), F_OK) == 0) {
      RETURN_IF_ERROR(ApplyTomlFile(sources.file, &config));
    } else if (sources.file_must_exist) {
      return InvalidArgument("config file not found: " + sources.file,
                             "copy config/auri.example.toml to auri.toml, or omit --config");
    }
  }
  for (const Option& opt : kOptions) {
    auto it = sources.env.find(EnvName(opt.key));
    if (it != sources.env.end()) {
      RETURN_IF_ERROR(SetFromString(opt, it->second, "environment " + it->first, &config));
    }
  }
  for (const std::string& item : sources.overrides) {
    auto eq = item.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument("--set expects section.key=value, got '" + item + "'");
    }
    const Option* opt = FindOption(item.substr(0, eq));
    if (!opt) {
      return InvalidArgument("unknown option '" + item.substr(0, eq) + "' in --set",
                             "see docs/configuration.md for the list of options");
    }
    RETURN_IF_ERROR(SetFromString(*opt, item.substr(eq + 1), "--set", &config));
  }
  config.home = MakeAbsolute(config.home);
  config.secrets.master_key_file = MakeAbsolute(config.secrets.master_key_file);
  config.backup.repo1_path = MakeAbsolute(config.backup.repo1_path);
  if (config.backup.repo2_path != "none") {
    config.backup.repo2_path = MakeAbsolute(config.backup.repo2_path);
  }
  RETURN_IF_ERROR(Validate(config));
  // The stack's database may have been switched to a restored instance: that record wins over
  // every source above, or commands would talk to the stopped original cluster.
  if (config.EmbeddedPostgres()) {
    auto active = ReadActiveDatabase(config.home);
    if (active.ok()) {
      config.postgres.port = active->port;
      config.postgres.data_dir = active->data_dir;
      config.postgres.socket_dir = active->socket_dir;
      config.postgres.active_instance = active->instance;
    } else if (active.status().code() != StatusCode::kNotFound) {
      return active.status();
    }
  }
  return config;
}

std::map<std::string, std::string> AuriEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("AURI_", 0) != 0) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::string Config::DatabaseDsn() const {
  if (!postgres.dsn.empty()) return postgres.dsn;
  return "host=" + postgres.host + " port=" + std::to_string(postgres.port) +
         " dbname=" + QuoteDsnValue(postgres.database) + " user=" + QuoteDsnValue(postgres.user) +
         " connect_timeout=" + std::to_string(postgres.connect_timeout_seconds) +
         " application_name=auri";
}

std::string Config::AdminDsn() const {
  if (!postgres.dsn.empty()) return postgres.dsn;  // external: the operator creates the database
  return "host=" + postgres.host + " port=" + std::to_string(postgres.port) +
         " dbname=postgres user=" + QuoteDsnValue(postgres.user) +
         " connect_timeout=" + std::to_string(postgres.connect_timeout_seconds) +
         " application_name=auri";
}

namespace {
// "host:port" of a redis://host:port[/db] URL (Validate guarantees the scheme).
std::string RedisUrlAuthority(const std::string& url) {
  std::string rest = url.substr(8);  // after "redis://"
  return rest.substr(0, rest.find('/'));
}
}  // namespace

std::string Config::RedisHost() const {
  if (redis.url.empty()) return redis.host;
  std::string authority = RedisUrlAuthority(redis.url);
  return authority.substr(0, authority.rfind(':'));
}

int Config::RedisPort() const {
  if (redis.url.empty()) return redis.port;
  std::string authority = RedisUrlAuthority(redis.url);
  auto colon = authority.rfind(':');
  return colon == std::string::npos ? 6379 : std::atoi(authority.c_str() + colon + 1);
}

std::string Config::ApiBaseUrl() const {
  return "http://" + api.host + ":" + std::to_string(api.port);
}

std::vector<std::string> Config::BackupRepoPaths() const {
  std::vector<std::string> paths = {backup.repo1_path.empty() ? BackupDir() + "/repo1"
                                                              : backup.repo1_path};
  if (backup.repo2_path != "none") {
    paths.push_back(backup.repo2_path.empty() ? BackupDir() + "/repo2" : backup.repo2_path);
  }
  return paths;
}

std::string Config::MasterKeyFile() const {
  return secrets.master_key_file.empty() ? home + "/master.key" : secrets.master_key_file;
}

std::string RenderConfigToml(const Config& config) {
  Config copy = config;
  std::string out;
  std::string section;
  for (const Option& opt : kOptions) {
    std::string key(opt.key);
    std::string sec = key.substr(0, key.find('.'));
    if (sec != section) {
      out += (section.empty() ? "" : "\n") + std::string("[") + sec + "]\n";
      section = sec;
    }
    out += key.substr(key.find('.') + 1) + " = ";
    void* field = opt.field(copy);
    switch (opt.kind) {
      case Kind::kString: {
        std::string v = *static_cast<std::string*>(field);
        if (key == "postgres.dsn" && v.find("password") != std::string::npos) v = "<redacted>";
        out += "\"" + v + "\"\n";
        break;
      }
      case Kind::kInt:
        out += std::to_string(*static_cast<int*>(field)) + "\n";
        break;
      case Kind::kStringList: {
        out += "[";
        bool first = true;
        for (const auto& s : *static_cast<std::vector<std::string>*>(field)) {
          out += (first ? "\"" : ", \"") + s + "\"";
          first = false;
        }
        out += "]\n";
        break;
      }
    }
  }
  return out;
}

std::string RenderConfigReference() {
  std::string out =
      "# Configuration reference\n\n"
      "Generated by `auri config reference` from the one declaration of options in\n"
      "`src/config/config.cc`; a unit test fails when this file and the code disagree.\n\n"
      "Sources, later ones winning: built-in defaults → `auri.toml` (or `--config FILE`) →\n"
      "environment variables `AURI_<SECTION>_<KEY>` → `--set section.key=value` flags.\n"
      "Unknown keys in the file are errors, so a typo cannot silently do nothing.\n\n"
      "| option | environment | default | meaning |\n|---|---|---|---|\n";
  for (const Option& opt : kOptions) {
    std::string def = opt.default_value;
    if (opt.kind == Kind::kInt) {
      def += " (" + std::to_string(opt.min_value) + ".." + std::to_string(opt.max_value) + ")";
    }
    out += "| `" + std::string(opt.key) + "` | `" + EnvName(opt.key) + "` | `" + def + "` | " +
           opt.help + " |\n";
  }
  return out;
}

}  // namespace auri
