#include "store/conninfo.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <exception>

namespace auri::store_internal {
namespace {

// Splits a libpq multi-host list ("h1,h2").
std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

// A conninfo value in single quotes, with \ and ' escaped as libpq requires.
std::string Quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

std::string ConnInfo::Get(const std::string& keyword) const {
  for (const auto& [key, value] : params) {
    if (key == keyword) return value;
  }
  return "";
}

std::string ConnInfo::Endpoint() const {
  std::string host_list = Get("host");
  if (host_list.empty()) host_list = Get("hostaddr");
  if (host_list.empty()) host_list = EnvOr("PGHOST", "local socket");
  std::string port_list = Get("port");
  if (port_list.empty()) port_list = EnvOr("PGPORT", "5432");
  std::vector<std::string> hosts = SplitCommas(host_list);
  std::vector<std::string> ports = SplitCommas(port_list);
  std::string out;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (i > 0) out += ",";
    // libpq: one port applies to every host; otherwise ports pair with hosts by position.
    const std::string& port = ports.size() == 1 ? ports[0] : (i < ports.size() ? ports[i] : "?");
    out += hosts[i] + ":" + port;
  }
  std::string dbname = Get("dbname");
  if (dbname.empty()) dbname = Get("user");
  if (!dbname.empty()) out += "/" + dbname;
  return out;
}

Result<ConnInfo> ParseDsn(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    // libpq's message may quote part of the DSN (and so a password): leave it out.
    if (error) PQfreemem(error);
    return InvalidArgument("the database DSN is malformed",
                           "use libpq's keyword=value form (host=... port=... dbname=...) or a "
                           "postgresql://user@host:port/dbname URI");
  }
  ConnInfo info;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && o->val[0] != '\0') info.params.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(options);
  return info;
}

std::string BuildConninfo(const ConnInfo& info, const ConnectSettings& settings) {
  int connect_timeout_s = settings.default_connect_timeout_s;
  std::string options;
  std::string out;
  for (const auto& [key, value] : info.params) {
    if (key == "connect_timeout") {
      connect_timeout_s = std::atoi(value.c_str());
      continue;
    }
    if (key == "options") {
      options = value;
      continue;
    }
    out += key + "=" + Quote(value) + " ";
  }
  if (settings.connect_deadline.count() > 0) {
    // Whole seconds, rounded up; libpq treats 1 as 2 and <= 0 as "wait forever".
    int deadline_s = static_cast<int>((settings.connect_deadline.count() + 999) / 1000);
    deadline_s = std::max(deadline_s, 2);
    if (connect_timeout_s <= 0 || deadline_s < connect_timeout_s) connect_timeout_s = deadline_s;
  }
  if (connect_timeout_s > 0) out += "connect_timeout=" + std::to_string(connect_timeout_s) + " ";
  // Later -c settings win, so ours follow the DSN's own options.
  if (settings.statement_timeout_ms >= 0) {
    options += " -c statement_timeout=" + std::to_string(settings.statement_timeout_ms);
  }
  if (settings.lock_timeout_ms >= 0) {
    options += " -c lock_timeout=" + std::to_string(settings.lock_timeout_ms);
  }
  if (!settings.synchronous_commit) options += " -c synchronous_commit=off";
  if (!options.empty()) out += "options=" + Quote(options) + " ";
  // Names Auri's sessions in pg_stat_activity unless the DSN names them itself.
  out += "fallback_application_name=auri";
  return out;
}

Result<std::unique_ptr<pqxx::connection>> Connect(const ConnInfo& info,
                                                  const ConnectSettings& settings) {
  try {
    return std::make_unique<pqxx::connection>(BuildConninfo(info, settings));
  } catch (const std::exception& e) {
    return Unavailable(
        "cannot connect to postgresql at " + info.Endpoint() + ": " + OneLine(e.what()),
        "check that PostgreSQL is running and reachable there and that the "
        "database URL (user, database, password) is right");
  }
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  std::string out;
  for (char c : text) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace auri::store_internal
