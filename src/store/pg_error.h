#pragma once
// Turning exceptions from libpqxx into Status: the one place where the store decides what a
// database error means to its callers. Every store function catches at its edge and calls this,
// so no exception crosses the store's boundary.
#include <exception>
#include <string_view>

#include "common/status.h"

namespace auri::store_internal {

// Maps `e` to a Status whose message is "<what>: <server or libpq message>". By SQLSTATE:
//   connection lost, 08xxx, 57P01-57P03 (shutdown), 53xxx (too many connections), 25006 (read-only:
//   we reached a standby after a failover), 40001/40P01 (serialization failure, deadlock: retry)
//                                        -> kUnavailable
//   57014 (statement_timeout), 55P03 (lock_timeout)  -> kDeadlineExceeded
//   23505 unique violation                            -> kAlreadyExists
//   23503 foreign key violation                       -> kFailedPrecondition
//   other 23xxx (check, not null), 22xxx (bad data)   -> kInvalidArgument
//   anything else (syntax errors, bugs, in-doubt commit of an unknown state) -> kInternal
Status StatusFromException(const std::exception& e, std::string_view what);

// True when `e` means the connection is gone or unusable, so the caller must MarkBroken() the
// pooled connection before returning it.
bool IsConnectionLoss(const std::exception& e);

}  // namespace auri::store_internal
