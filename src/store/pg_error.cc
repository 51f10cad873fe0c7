#include "store/pg_error.h"

#include <pqxx/except>
#include <string>

#include "store/conninfo.h"

namespace auri::store_internal {
namespace {

// Server messages arrive as "ERROR:  text\nDETAIL:  ...": drop the severity (the Status code says
// it) and keep the rest on one line.
std::string CleanMessage(const char* what) {
  std::string text = OneLine(what);
  for (const char* prefix : {"ERROR: ", "FATAL: "}) {
    if (text.rfind(prefix, 0) == 0) text.erase(0, std::char_traits<char>::length(prefix));
  }
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  return text;
}

bool IsConnectionLossState(const std::string& state) {
  return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
}

}  // namespace

bool IsConnectionLoss(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) return true;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    return IsConnectionLossState(sql->sqlstate());
  }
  return false;
}

Status StatusFromException(const std::exception& e, std::string_view what) {
  std::string message = std::string(what) + ": " + CleanMessage(e.what());
  if (IsConnectionLoss(e)) {
    return Unavailable(std::move(message),
                       "the connection to postgresql was lost; retry (a new connection is opened) "
                       "and check that the server is running");
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr ||
      dynamic_cast<const pqxx::statement_completion_unknown*>(&e) != nullptr) {
    return Unavailable(message + " (the outcome of the commit is unknown)",
                       "check whether the change was applied before retrying it");
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return Unavailable(std::move(message), "a concurrent transaction conflicted; retry");
  }
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (sql == nullptr) return Internal(std::move(message));
  const std::string& state = sql->sqlstate();
  auto in_class = [&state](const char* cls) { return state.rfind(cls, 0) == 0; };
  if (state == "57014" || state == "55P03") {
    return DeadlineExceeded(std::move(message),
                            "a statement or lock wait ran past its timeout; look for long-running "
                            "transactions (pg_stat_activity)");
  }
  if (in_class("53") || state == "25006" || state == "40001" || state == "40P01") {
    return Unavailable(std::move(message));
  }
  if (state == "23505") return AlreadyExists(std::move(message));
  if (state == "23503") return FailedPrecondition(std::move(message));
  if (in_class("23") || in_class("22")) return InvalidArgument(std::move(message));
  return Internal(std::move(message));
}

}  // namespace auri::store_internal
