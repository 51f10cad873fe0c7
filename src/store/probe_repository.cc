#include "store/probe_repository.h"

#include <pqxx/pqxx>

#include "common/random.h"
#include "store/pg_error.h"

namespace auri {
namespace {

template <typename F>
auto WithConnection(ConnectionPool& pool, std::chrono::milliseconds timeout, const char* what,
                    F body) -> decltype(body(std::declval<pqxx::connection&>())) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    return body(conn.get());
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, what);
  }
}

}  // namespace

Status ProbeDatabaseReadWrite(ConnectionPool& pool, std::chrono::milliseconds timeout) {
  return WithConnection(pool, timeout, "probing database writes", [](pqxx::connection& c) {
    // auth_failures is an append-only log with no invariants to disturb; the row is tagged and
    // removed again.
    std::string tag = "auri-verify-probe-" + RandomHex(8);
    int64_t id = 0;
    {
      pqxx::work tx(c);
      id = tx.exec_params1(
                 "INSERT INTO auth_failures (failure_type, endpoint) VALUES "
                 "('auri-verify-probe', $1) RETURNING id",
                 tag)[0]
               .as<int64_t>();
      tx.commit();
    }
    pqxx::work tx(c);
    pqxx::result back = tx.exec_params("SELECT endpoint FROM auth_failures WHERE id = $1", id);
    if (back.size() != 1 || back[0][0].as<std::string>() != tag) {
      return CheckFailed("a committed probe row was not read back");
    }
    tx.exec_params("DELETE FROM auth_failures WHERE id = $1", id);
    tx.commit();
    return Status::Ok();
  });
}

Result<int64_t> CountJobsForTrigger(ConnectionPool& pool, const std::string& trigger_id,
                                    std::chrono::milliseconds timeout) {
  return WithConnection(pool, timeout, "counting probe jobs",
                        [&](pqxx::connection& c) -> Result<int64_t> {
                          pqxx::read_transaction tx(c);
                          return tx
                              .exec_params1(
                                  "SELECT count(*) FROM action_jobs WHERE trigger_id = "
                                  "$1::uuid",
                                  trigger_id)[0]
                              .as<int64_t>();
                        });
}

Status DeleteProbeData(ConnectionPool& pool, const std::string& username,
                       const std::string& event_id, std::chrono::milliseconds timeout) {
  return WithConnection(pool, timeout, "deleting probe data", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    // Organizations first (the exactly-one-owner rule would refuse orphaning them).
    tx.exec_params(
        "DELETE FROM organizations WHERE id IN (SELECT m.organization_id FROM "
        "organization_members m JOIN users u ON u.id = m.user_id WHERE u.username = $1 AND "
        "m.role = 'owner')",
        username);
    tx.exec_params("DELETE FROM users WHERE username = $1", username);
    if (!event_id.empty()) {
      // Jobs of every trigger the probe event matched (only triggers naming the probe chain can),
      // with their results; the probe trigger's own went with its organization.
      tx.exec_params("DELETE FROM action_jobs WHERE event_id = $1", event_id);
      tx.exec_params("DELETE FROM events WHERE id = $1", event_id);
      tx.exec_params("DELETE FROM event_ids WHERE id = $1", event_id);
      // The event-processor's checkpoint may name the probe event (its block time is the newest):
      // pull it back to the newest remaining event, or the integrity check "checkpoint not ahead
      // of the newest event" fails on every restore taken after `auri verify` ran.
      tx.exec_params(
          "UPDATE event_processor_checkpoints SET last_block_time = (SELECT max(block_time) FROM "
          "events), last_event_id = CASE WHEN last_event_id = $1 THEN NULL ELSE last_event_id "
          "END WHERE last_event_id = $1 OR last_block_time > COALESCE((SELECT max(block_time) "
          "FROM events), '-infinity')",
          event_id);
    }
    tx.commit();
    return Status::Ok();
  });
}

}  // namespace auri
