#include "store/event_queue.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "store/array_literal.h"
#include "store/pg_error.h"
#include "store/prepared.h"

namespace auri {
namespace {

using store_internal::ArrayLiteral;
using store_internal::ExecPrepared;
using Steady = std::chrono::steady_clock;

double Since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

// One advisory-lock key shared by every processor (see the header: claim order).
constexpr const char* kClaimLockSql = "SELECT pg_advisory_lock(hashtext('auri_event_queue_claim'))";
constexpr const char* kClaimUnlockSql =
    "SELECT pg_advisory_unlock(hashtext('auri_event_queue_claim'))";

// The queue row and its event. LEFT JOIN: a queue row whose event is gone is still claimed (and
// deleted) so it cannot block the queue. FOR UPDATE OF q locks only the queue rows.
constexpr const char* kClaimSql =
    "SELECT q.seq, q.event_id, e.id IS NOT NULL AS present, e.chain_id, e.block_number, "
    "e.block_hash, e.transaction_hash, e.log_index, e.registry, e.event_type, e.agent_id, "
    "e.\"timestamp\", e.owner, e.token_uri, e.metadata_key, e.metadata_value, e.client_address, "
    "e.feedback_index, e.score, e.tag1, e.tag2, e.file_uri, e.file_hash, e.validator_address, "
    "e.request_uri, e.request_hash, e.response, e.response_uri, e.response_hash, e.tag, "
    "extract(epoch FROM clock_timestamp() - q.enqueued_at)::float8 "
    "FROM event_queue q LEFT JOIN events e ON e.id = q.event_id AND e.block_time = q.block_time "
    "WHERE q.seq >= $2 ORDER BY q.seq LIMIT $1 FOR UPDATE OF q SKIP LOCKED";

// FOR NO KEY UPDATE: serialises processors on a trigger without blocking the FOR KEY SHARE lock
// that the action_jobs foreign key takes. ORDER BY id: every processor locks in the same order,
// so two batches cannot deadlock on their triggers.
constexpr const char* kLockTriggersSql =
    "SELECT id::text, enabled, cb_state, cb_failure_count, "
    "(extract(epoch FROM cb_last_failure_time) * 1000)::bigint, "
    "(extract(epoch FROM cb_opened_at) * 1000)::bigint, cb_half_open_calls, "
    "cb_failure_threshold, cb_recovery_timeout_seconds, cb_half_open_max_calls "
    "FROM triggers WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE";

constexpr const char* kLockStatesSql =
    "SELECT condition_id::text, state::text FROM trigger_state "
    "WHERE trigger_id = ANY($1::uuid[]) ORDER BY condition_id FOR UPDATE";

constexpr const char* kWriteStatesSql =
    "INSERT INTO trigger_state (condition_id, trigger_id, state) "
    "SELECT c, t, s FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[]) AS u(c, t, s) "
    "ON CONFLICT (condition_id) DO UPDATE SET state = EXCLUDED.state";

constexpr const char* kWriteBreakersSql =
    "UPDATE triggers t SET cb_state = u.st, cb_failure_count = u.fc, "
    "cb_last_failure_time = to_timestamp(u.lf / 1000.0), "
    "cb_opened_at = to_timestamp(u.oa / 1000.0), cb_half_open_calls = u.hc "
    "FROM unnest($1::uuid[], $2::text[], $3::integer[], $4::bigint[], $5::bigint[], "
    "$6::integer[]) AS u(id, st, fc, lf, oa, hc) WHERE t.id = u.id";

// The job's id is set by the action_jobs_set_id trigger from (action_id, event_id) (migration
// 0007), so a job that already exists for the pair is a primary-key conflict and is skipped.
constexpr const char* kInsertJobsSql =
    "INSERT INTO action_jobs (trigger_id, action_id, event_id, action_type, priority, config, "
    "event_data) "
    "SELECT t, a, e, ty, p, c, d FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], "
    "$5::integer[], $6::jsonb[], $7::jsonb[]) AS u(t, a, e, ty, p, c, d) "
    "ON CONFLICT (id) DO NOTHING RETURNING 1";

constexpr const char* kDeleteQueueSql = "DELETE FROM event_queue WHERE event_id = ANY($1::text[])";

constexpr const char* kCheckpointSql =
    "INSERT INTO event_processor_checkpoints (processor_id, last_event_id, last_block_time, "
    "events_processed) VALUES ($1, $2, to_timestamp($3), $4) "
    "ON CONFLICT (processor_id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id, "
    "last_block_time = EXCLUDED.last_block_time, "
    "events_processed = event_processor_checkpoints.events_processed + "
    "EXCLUDED.events_processed, updated_at = now()";

std::optional<std::string> OptText(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

template <typename T>
std::optional<T> OptInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

pipeline::Event EventFromRow(const pqxx::row& r) {
  pipeline::Event e;
  e.id = r[1].as<std::string>();
  e.chain_id = r[3].as<int64_t>();
  e.block_number = r[4].as<int64_t>();
  e.block_hash = OptText(r[5]);
  e.transaction_hash = r[6].as<std::string>();
  e.log_index = r[7].as<int32_t>();
  e.registry = r[8].as<std::string>();
  e.event_type = r[9].as<std::string>();
  e.agent_id = r[10].as<int64_t>();
  e.timestamp = r[11].as<int64_t>();
  e.owner = OptText(r[12]);
  e.token_uri = OptText(r[13]);
  e.metadata_key = OptText(r[14]);
  e.metadata_value = OptText(r[15]);
  e.client_address = OptText(r[16]);
  e.feedback_index = OptInt<int64_t>(r[17]);
  e.score = OptInt<int32_t>(r[18]);
  e.tag1 = OptText(r[19]);
  e.tag2 = OptText(r[20]);
  e.file_uri = OptText(r[21]);
  e.file_hash = OptText(r[22]);
  e.validator_address = OptText(r[23]);
  e.request_uri = OptText(r[24]);
  e.request_hash = OptText(r[25]);
  e.response = OptInt<int32_t>(r[26]);
  e.response_uri = OptText(r[27]);
  e.response_hash = OptText(r[28]);
  e.tag = OptText(r[29]);
  return e;
}

LockedTrigger LockedTriggerFromRow(const pqxx::row& r) {
  LockedTrigger t;
  t.id = r[0].as<std::string>();
  t.enabled = r[1].as<bool>();
  t.breaker.state =
      pipeline::ParseBreakerState(r[2].as<std::string>()).value_or(pipeline::BreakerState::kClosed);
  t.breaker.failure_count = r[3].as<int32_t>();
  t.breaker.last_failure_time_ms = OptInt<int64_t>(r[4]);
  t.breaker.opened_at_ms = OptInt<int64_t>(r[5]);
  t.breaker.half_open_calls = r[6].as<int32_t>();
  t.breaker_config.failure_threshold = r[7].as<int32_t>();
  t.breaker_config.recovery_timeout_seconds = r[8].as<int32_t>();
  t.breaker_config.half_open_max_calls = r[9].as<int32_t>();
  return t;
}

std::string UuidArray(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  ArrayLiteral a;
  for (const std::string& id : ids) a.AddText(id);
  return a.Finish();
}

// The body of ProcessEventBatch once the connection is held. Throws pqxx exceptions.
Result<EventBatchResult> RunBatch(pqxx::connection& conn, const EventBatchOptions& options,
                                  EventBatchHandler& handler) {
  EventBatchResult result;
  auto t0 = Steady::now();
  pqxx::work tx(conn);

  // 1. Claim, under the claim lock (released once our triggers are locked, step 2).
  tx.exec(kClaimLockSql);
  pqxx::result claimed =
      ExecPrepared(tx, "auri_claim_events", kClaimSql, options.limit, options.min_seq);
  std::vector<QueuedEvent> events;
  std::vector<std::string> all_ids;
  events.reserve(claimed.size());
  for (const pqxx::row& r : claimed) {
    all_ids.push_back(r[1].as<std::string>());
    result.max_seq = std::max(result.max_seq, r[0].as<int64_t>());
    result.oldest_age_seconds = std::max(result.oldest_age_seconds, r[30].as<double>());
    if (!r[2].as<bool>()) {
      ++result.orphans;
      continue;
    }
    events.push_back({r[0].as<int64_t>(), EventFromRow(r)});
  }
  if (claimed.empty()) {
    tx.exec(kClaimUnlockSql);
    tx.commit();
    return result;
  }

  // 2. Lock the triggers the batch may touch, then let the next processor claim.
  std::unordered_map<std::string, LockedTrigger> triggers;
  pipeline::StoredStates states;
  if (!events.empty()) {
    std::string trigger_ids = UuidArray(handler.TriggersToLock(events));
    for (const pqxx::row& r :
         ExecPrepared(tx, "auri_lock_triggers", kLockTriggersSql, trigger_ids)) {
      LockedTrigger t = LockedTriggerFromRow(r);
      triggers.emplace(t.id, std::move(t));
    }
    tx.exec(kClaimUnlockSql);
    for (const pqxx::row& r : ExecPrepared(tx, "auri_lock_states", kLockStatesSql, trigger_ids)) {
      states.emplace(r[0].as<std::string>(), r[1].as<std::string>());
    }
  } else {
    tx.exec(kClaimUnlockSql);
  }
  result.claim_seconds = Since(t0);

  // 3. Evaluate.
  auto t1 = Steady::now();
  BatchWrites writes;
  if (!events.empty()) {
    Result<BatchWrites> evaluated = handler.Evaluate(events, triggers, states);
    if (!evaluated.ok()) return evaluated.status();  // tx aborts on destruction
    writes = std::move(evaluated).value();
  }
  result.evaluate_seconds = Since(t1);

  // 4. Write everything and commit.
  auto t2 = Steady::now();
  if (!writes.states.empty()) {
    ArrayLiteral cond, trig, state;
    for (const ConditionStateWrite& w : writes.states) {
      cond.AddText(w.condition_id);
      trig.AddText(w.trigger_id);
      state.AddText(w.state_json);
    }
    ExecPrepared(tx, "auri_write_states", kWriteStatesSql, cond.Finish(), trig.Finish(),
                 state.Finish());
  }
  if (!writes.breakers.empty()) {
    ArrayLiteral id, st, fc, lf, oa, hc;
    for (const BreakerWrite& w : writes.breakers) {
      id.AddText(w.trigger_id);
      st.AddText(std::string(pipeline::BreakerStateName(w.state.state)));
      fc.AddInt(w.state.failure_count);
      lf.AddInt(w.state.last_failure_time_ms);
      oa.AddInt(w.state.opened_at_ms);
      hc.AddInt(w.state.half_open_calls);
    }
    ExecPrepared(tx, "auri_write_breakers", kWriteBreakersSql, id.Finish(), st.Finish(),
                 fc.Finish(), lf.Finish(), oa.Finish(), hc.Finish());
  }
  if (!writes.jobs.empty()) {
    ArrayLiteral t, a, e, ty, p, c, d;
    for (const NewActionJob& j : writes.jobs) {
      t.AddText(j.trigger_id);
      a.AddText(j.action_id);
      e.AddText(j.event_id);
      ty.AddText(j.action_type);
      p.AddInt(j.priority);
      c.AddText(j.config_json);
      d.AddText(j.event_data_json);
    }
    pqxx::result inserted =
        ExecPrepared(tx, "auri_insert_jobs", kInsertJobsSql, t.Finish(), a.Finish(), e.Finish(),
                     ty.Finish(), p.Finish(), c.Finish(), d.Finish());
    result.jobs_created = static_cast<int64_t>(inserted.size());
  }
  ArrayLiteral queue_ids;
  for (const std::string& id : all_ids) queue_ids.AddText(id);
  ExecPrepared(tx, "auri_delete_queue", kDeleteQueueSql, queue_ids.Finish());
  if (!events.empty()) {
    const pipeline::Event& last = events.back().event;
    ExecPrepared(tx, "auri_checkpoint", kCheckpointSql, options.processor_id, last.id,
                 last.timestamp, static_cast<int64_t>(events.size()));
  }
  tx.commit();
  result.commit_seconds = Since(t2);
  result.claimed = static_cast<int64_t>(events.size());
  return result;
}

// Runs `body` on a pooled connection, mapping exceptions; `what` names the operation.
template <typename T, typename Body>
Result<T> WithConnection(ConnectionPool& pool, std::chrono::milliseconds timeout, const char* what,
                         Body body) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    return body(conn.get());
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, what);
  }
}

}  // namespace

Result<EventBatchResult> ProcessEventBatch(ConnectionPool& pool, const EventBatchOptions& options,
                                           EventBatchHandler& handler) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(options.acquire_timeout));
  try {
    Result<EventBatchResult> r = RunBatch(conn.get(), options, handler);
    // A handler error leaves the session advisory lock possibly held: close the connection
    // rather than hand back a session that blocks every other processor.
    if (!r.ok()) conn.MarkBroken();
    return r;
  } catch (const std::exception& e) {
    // Same reason: the claim lock is session-level, so any failure closes the connection (which
    // releases it) instead of returning it to the pool.
    conn.MarkBroken();
    return store_internal::StatusFromException(e, "processing an event batch");
  }
}

Result<int64_t> CountPendingJobs(ConnectionPool& pool, int64_t limit,
                                 std::chrono::milliseconds timeout) {
  return WithConnection<int64_t>(pool, timeout, "counting pending jobs", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    pqxx::result r = tx.exec_params(
        "SELECT count(*) FROM (SELECT 1 FROM action_jobs WHERE status = 'pending' LIMIT $1) s",
        limit);
    tx.commit();
    return Result<int64_t>(r[0][0].as<int64_t>());
  });
}

Result<double> OldestQueuedEventAgeSeconds(ConnectionPool& pool,
                                           std::chrono::milliseconds timeout) {
  return WithConnection<double>(pool, timeout, "reading the queue age", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    pqxx::result r = tx.exec(
        "SELECT coalesce(extract(epoch FROM clock_timestamp() - "
        "(SELECT enqueued_at FROM event_queue ORDER BY seq LIMIT 1)), 0)::float8");
    tx.commit();
    return Result<double>(std::max(0.0, r[0][0].as<double>()));
  });
}

Result<int> EnsureEventPartitions(ConnectionPool& pool, int months_ahead,
                                  std::chrono::milliseconds timeout) {
  return WithConnection<int>(pool, timeout, "creating event partitions", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    pqxx::result r =
        tx.exec_params("SELECT auri_ensure_event_partitions(now(), $1)", months_ahead + 1);
    tx.commit();
    return Result<int>(r[0][0].as<int>());
  });
}

Result<int> DropExpiredEventPartitions(ConnectionPool& pool, int retention_days,
                                       std::chrono::milliseconds timeout) {
  return WithConnection<int>(
      pool, timeout, "dropping expired event partitions", [&](pqxx::connection& c) {
        pqxx::work tx(c);
        pqxx::result r = tx.exec_params(
            "SELECT auri_drop_event_partitions(now() - make_interval(days => $1))", retention_days);
        tx.commit();
        return Result<int>(r[0][0].as<int>());
      });
}

}  // namespace auri
