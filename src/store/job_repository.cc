#include "store/job_repository.h"

#include <chrono>
#include <mutex>
#include <pqxx/pqxx>
#include <unordered_map>

#include "store/array_literal.h"
#include "store/pg_error.h"
#include "store/prepared.h"

namespace auri {
namespace {

using store_internal::ArrayLiteral;
using store_internal::ExecPrepared;
using store_internal::IsConnectionLoss;
using store_internal::StatusFromException;

// `text` as PostgreSQL text can hold it: NUL bytes and every byte that does not start a valid
// UTF-8 sequence (a response cut at 1 KiB inside a character, binary bodies) become U+FFFD.
std::string StorableText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    size_t len = b < 0x80           ? 1
                 : (b >> 5) == 0x6  ? 2
                 : (b >> 4) == 0xe  ? 3
                 : (b >> 3) == 0x1e ? 4
                                    : 0;
    bool valid = b != 0 && len > 0 && i + len <= text.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    }
    if (valid && len > 1) {
      // Overlong forms, surrogates and code points above U+10FFFF are invalid too.
      uint32_t cp = b & (0xff >> (len + 1));
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (text[i + k] & 0x3f);
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      valid = cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (valid) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// The workers' statements on action_jobs are not plain named prepared statements: a prepared
// statement's generic plan, cached while the table was small (seconds after `auri up`, or before
// a burst of jobs), kept scanning the whole table after it grew — bench/e2e.sh measured a claim
// and a finish that hashed a sequential scan of every kept job, 650 us of PostgreSQL CPU per
// delivered job instead of 140. Finish and reschedule use exec_params, planned on each call for
// the table as it is (0.1-0.3 ms per batch of up to 200 outcomes); the claim is re-prepared
// every 10 s (below).

// Runs `before(connection)` and then `body(tx)` in one transaction on a pooled connection and
// commits; exceptions become Status.
template <typename T, typename Before, typename Body>
Result<T> InTransactionAfter(ConnectionPool& pool, std::chrono::milliseconds timeout,
                             const char* what, Before before, Body body) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    before(conn.get());
    pqxx::work tx(conn.get());
    T value = body(tx);
    tx.commit();
    return value;
  } catch (const std::exception& e) {
    if (IsConnectionLoss(e)) conn.MarkBroken();
    return StatusFromException(e, what);
  }
}

template <typename T, typename Body>
Result<T> InTransaction(ConnectionPool& pool, std::chrono::milliseconds timeout, const char* what,
                        Body body) {
  return InTransactionAfter<T>(
      pool, timeout, what, [](pqxx::connection&) {}, body);
}

// The claim is the exception to the rule above: it runs for every few jobs at low rates and is
// on the event → webhook path, where parsing and planning it on every call made the workers'
// claim stage ≈ 2 ms slower under load (docs/benchmarks.md, session 5). So it is a named
// prepared statement whose plan cannot grow old: each connection drops it every
// kClaimPlanLifetime, and the next runs plan it again for the table as it is then (five custom
// plans, then a generic one). A burst into a small table can leave a stale plan for at most
// that long.
constexpr const char* kClaimStatement = "auri_claim_due_jobs";
constexpr std::chrono::seconds kClaimPlanLifetime{10};

void DropClaimPlanWhenOld(pqxx::connection& conn) {
  static std::mutex mu;
  // By connection address: a new connection at a reused address at worst drops a statement it
  // does not have (libpqxx ignores that) or keeps a fresh one a little longer.
  static std::unordered_map<const void*, std::chrono::steady_clock::time_point> prepared_at;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu);
  auto [it, added] = prepared_at.try_emplace(&conn, now);
  if (!added && now - it->second >= kClaimPlanLifetime) {
    conn.unprepare(kClaimStatement);  // DEALLOCATE, outside any transaction
    it->second = now;
  }
}

std::optional<int> OptionalInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int>();
}

}  // namespace

Result<std::vector<ClaimedJob>> ClaimDueJobs(ConnectionPool& pool, const std::string& owner,
                                             int limit, std::chrono::seconds lease,
                                             std::chrono::milliseconds timeout) {
  if (limit <= 0) return std::vector<ClaimedJob>{};
  // The inner SELECT walks action_jobs_claim_idx in (priority, created_at) order and skips rows
  // another worker has locked, so concurrent claimers never wait on each other nor double-claim.
  // The claimed ids go to the UPDATE as an array (`id = ANY (ARRAY(...))`), which is always a
  // primary-key lookup: written as `UPDATE ... FROM due WHERE j.id = due.id`, the generic plan
  // (a prepared statement's plan after five runs, not knowing $1) hashed a sequential scan of
  // every job kept, so each claim cost time proportional to 30 days of jobs.
  // The trigger's name is looked up per claimed row (primary key), not joined: a join made the
  // planner hash every trigger on each claim. The workers' statements set updated_at themselves,
  // which spares the row trigger's PL/pgSQL call (migration 0006).
  static constexpr const char* kSql =
      "UPDATE action_jobs j SET status = 'running', lease_owner = $2,"
      "  lease_expires_at = now() + make_interval(secs => $3), updated_at = now() "
      "WHERE j.id = ANY (ARRAY("
      "  SELECT id FROM action_jobs"
      "  WHERE status = 'pending' AND next_attempt_at <= now()"
      "  ORDER BY priority, created_at"
      "  LIMIT $1 FOR UPDATE SKIP LOCKED)) "
      "RETURNING j.id, j.trigger_id, j.event_id, j.action_type, j.config::text,"
      "  j.event_data::text, (SELECT t.name FROM triggers t WHERE t.id = j.trigger_id),"
      "  j.attempts, j.max_attempts,"
      "  (extract(epoch FROM j.created_at) * 1000)::bigint";
  return InTransactionAfter<std::vector<ClaimedJob>>(
      pool, timeout, "claiming action jobs", DropClaimPlanWhenOld, [&](pqxx::work& tx) {
        pqxx::result rows = ExecPrepared(tx, kClaimStatement, kSql, limit, owner,
                                         static_cast<double>(lease.count()));
        std::vector<ClaimedJob> jobs;
        jobs.reserve(rows.size());
        for (const auto& r : rows) {
          ClaimedJob j;
          j.id = r[0].as<std::string>();
          j.trigger_id = r[1].as<std::string>();
          j.event_id = r[2].as<std::string>();
          j.action_type = r[3].as<std::string>();
          j.config = r[4].as<std::string>();
          j.event_data = r[5].as<std::string>();
          j.trigger_name = r[6].as<std::string>();
          j.attempts = r[7].as<int>();
          j.max_attempts = r[8].as<int>();
          j.created_at_ms = r[9].as<int64_t>();
          jobs.push_back(std::move(j));
        }
        return jobs;
      });
}

Result<int64_t> ReclaimExpiredLeases(ConnectionPool& pool, std::chrono::milliseconds timeout) {
  return InTransaction<int64_t>(pool, timeout, "reclaiming expired leases", [](pqxx::work& tx) {
    pqxx::result r = tx.exec(
        "UPDATE action_jobs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
        " next_attempt_at = now(), last_error = 'lease expired (worker died or stalled)' "
        "WHERE status = 'running' AND lease_expires_at < now()");
    return static_cast<int64_t>(r.affected_rows());
  });
}

Result<int64_t> FinishJobs(ConnectionPool& pool, const std::string& owner,
                           const std::vector<FinishedJob>& jobs,
                           std::chrono::milliseconds timeout) {
  if (jobs.empty()) return int64_t{0};
  ArrayLiteral ids, statuses, attempts, durations, codes, errors, excerpts;
  for (const FinishedJob& j : jobs) {
    const JobOutcome& o = j.outcome;
    ids.AddText(j.job_id);
    statuses.AddBool(o.success);
    attempts.AddInt(o.attempts);
    durations.AddInt(o.duration_ms < 0 ? 0 : o.duration_ms);
    codes.AddInt(o.status_code);
    errors.AddText(o.error.empty() ? std::nullopt : std::optional(StorableText(o.error)));
    excerpts.AddText(StorableText(o.response_excerpt));
  }
  // One statement: the jobs still leased by `owner` move, and exactly those get a result row.
  // (Not `AND j.id = ANY ($2)`: with it the generic plan intersected the pkey and lease indexes
  // and then compared every job with every outcome, quadratic in the batch.)
  static constexpr const char* kSql =
      "WITH o AS ("
      "  SELECT * FROM unnest($2::uuid[], $3::bool[], $4::int[], $5::bigint[], $6::int[],"
      "    $7::text[], $8::text[]) AS o(id, success, attempts, duration_ms, code, error, excerpt)),"
      " moved AS ("
      "  UPDATE action_jobs j SET status = CASE WHEN o.success THEN 'succeeded' ELSE 'dead' END,"
      "    attempts = o.attempts, lease_owner = NULL, lease_expires_at = NULL,"
      "    last_error = o.error, last_status_code = o.code, updated_at = now()"
      "  FROM o WHERE j.id = o.id AND j.status = 'running' AND j.lease_owner = $1"
      "  RETURNING j.id, j.trigger_id, j.event_id, j.action_type) "
      "INSERT INTO action_results (job_id, trigger_id, event_id, action_type, status, attempts,"
      "  duration_ms, status_code, error, response_excerpt) "
      "SELECT m.id, m.trigger_id, m.event_id, m.action_type,"
      "  CASE WHEN o.success THEN 'success' ELSE 'failed' END, o.attempts, o.duration_ms, o.code,"
      "  o.error, o.excerpt "
      "FROM moved m JOIN o ON o.id = m.id";
  return InTransaction<int64_t>(pool, timeout, "finishing action jobs", [&](pqxx::work& tx) {
    pqxx::result r =
        tx.exec_params(kSql, owner, ids.Finish(), statuses.Finish(), attempts.Finish(),
                       durations.Finish(), codes.Finish(), errors.Finish(), excerpts.Finish());
    return static_cast<int64_t>(r.affected_rows());
  });
}

Result<int64_t> RescheduleJobs(ConnectionPool& pool, const std::string& owner,
                               const std::vector<RetryingJob>& jobs,
                               std::chrono::milliseconds timeout) {
  if (jobs.empty()) return int64_t{0};
  ArrayLiteral ids, attempts, delays_ms, errors, codes;
  for (const RetryingJob& j : jobs) {
    ids.AddText(j.job_id);
    attempts.AddInt(j.attempts);
    delays_ms.AddInt(static_cast<int64_t>(j.delay.count()));
    errors.AddText(StorableText(j.error));
    codes.AddInt(j.status_code);
  }
  static constexpr const char* kSql =
      "UPDATE action_jobs j SET status = 'pending', attempts = o.attempts, lease_owner = NULL,"
      " lease_expires_at = NULL, next_attempt_at = now() + o.delay_ms * interval '1 millisecond',"
      " last_error = o.error, last_status_code = o.code, updated_at = now() "
      "FROM unnest($2::uuid[], $3::int[], $4::bigint[], $5::text[], $6::int[])"
      "  AS o(id, attempts, delay_ms, error, code) "
      "WHERE j.id = o.id AND j.status = 'running' AND j.lease_owner = $1";
  return InTransaction<int64_t>(pool, timeout, "rescheduling action jobs", [&](pqxx::work& tx) {
    pqxx::result r = tx.exec_params(kSql, owner, ids.Finish(), attempts.Finish(),
                                    delays_ms.Finish(), errors.Finish(), codes.Finish());
    return static_cast<int64_t>(r.affected_rows());
  });
}

Result<int64_t> ReleaseLeases(ConnectionPool& pool, const std::string& owner,
                              std::chrono::milliseconds timeout) {
  return InTransaction<int64_t>(pool, timeout, "releasing leases", [&](pqxx::work& tx) {
    pqxx::result r = tx.exec_params(
        "UPDATE action_jobs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
        " next_attempt_at = now() WHERE status = 'running' AND lease_owner = $1",
        owner);
    return static_cast<int64_t>(r.affected_rows());
  });
}

Result<QueueStats> ReadQueueStats(ConnectionPool& pool, std::chrono::milliseconds timeout) {
  return InTransaction<QueueStats>(pool, timeout, "reading queue stats", [](pqxx::work& tx) {
    // One subquery per status, so each matches a partial index (claim, lease) and is an
    // index-only scan over the live jobs. `status IN ('pending', 'running')` matches neither, and
    // was a sequential scan of every job kept (30 days of them).
    pqxx::result r = tx.exec(
        "SELECT (SELECT count(*) FROM action_jobs WHERE status = 'pending'),"
        " (SELECT count(*) FROM action_jobs WHERE status = 'running'),"
        " (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"
        "  FROM action_jobs WHERE status = 'pending' AND next_attempt_at <= now())");
    QueueStats s;
    s.pending = r[0][0].as<int64_t>();
    s.running = r[0][1].as<int64_t>();
    s.oldest_pending_age_seconds = r[0][2].as<double>();
    return s;
  });
}

Result<std::vector<DeadLetter>> ListDeadLetters(ConnectionPool& pool, const std::string& trigger_id,
                                                int limit, std::chrono::milliseconds timeout) {
  return InTransaction<std::vector<DeadLetter>>(
      pool, timeout, "listing dead letters", [&](pqxx::work& tx) {
        std::optional<std::string> trigger;
        if (!trigger_id.empty()) trigger = trigger_id;
        pqxx::result rows = tx.exec_params(
            "SELECT id, trigger_id, event_id, action_type, attempts, coalesce(last_error, ''),"
            " last_status_code,"
            " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
            "FROM action_jobs WHERE status = 'dead' AND ($1::uuid IS NULL OR trigger_id = $1) "
            "ORDER BY updated_at DESC LIMIT $2",
            trigger, limit);
        std::vector<DeadLetter> out;
        for (const auto& r : rows) {
          DeadLetter d;
          d.id = r[0].as<std::string>();
          d.trigger_id = r[1].as<std::string>();
          d.event_id = r[2].as<std::string>();
          d.action_type = r[3].as<std::string>();
          d.attempts = r[4].as<int>();
          d.last_error = r[5].as<std::string>();
          d.last_status_code = OptionalInt(r[6]);
          d.updated_at = r[7].as<std::string>();
          out.push_back(std::move(d));
        }
        return out;
      });
}

namespace {
constexpr const char* kReplaySet =
    "UPDATE action_jobs SET status = 'pending', attempts = 0, next_attempt_at = now(),"
    " lease_owner = NULL, lease_expires_at = NULL ";
}  // namespace

Result<int64_t> ReplayDeadLetter(ConnectionPool& pool, const std::string& job_id,
                                 std::chrono::milliseconds timeout) {
  return InTransaction<int64_t>(pool, timeout, "replaying a dead letter", [&](pqxx::work& tx) {
    pqxx::result r =
        tx.exec_params(std::string(kReplaySet) + "WHERE id = $1::uuid AND status = 'dead'", job_id);
    return static_cast<int64_t>(r.affected_rows());
  });
}

Result<int64_t> ReplayDeadLettersOfTrigger(ConnectionPool& pool, const std::string& trigger_id,
                                           std::chrono::milliseconds timeout) {
  return InTransaction<int64_t>(pool, timeout, "replaying dead letters", [&](pqxx::work& tx) {
    pqxx::result r = tx.exec_params(
        std::string(kReplaySet) + "WHERE trigger_id = $1::uuid AND status = 'dead'", trigger_id);
    return static_cast<int64_t>(r.affected_rows());
  });
}

Result<int64_t> PurgeOldJobs(ConnectionPool& pool, std::chrono::hours retention,
                             std::chrono::milliseconds timeout) {
  return InTransaction<int64_t>(pool, timeout, "purging old action jobs", [&](pqxx::work& tx) {
    auto hours = static_cast<int>(retention.count());
    tx.exec_params(
        "DELETE FROM action_results WHERE created_at < now() - make_interval(hours => $1)", hours);
    pqxx::result r = tx.exec_params(
        "DELETE FROM action_jobs WHERE status IN ('succeeded', 'dead')"
        " AND updated_at < now() - make_interval(hours => $1)",
        hours);
    return static_cast<int64_t>(r.affected_rows());
  });
}

struct JobNotificationListener::State {
  std::unique_ptr<pqxx::connection> conn;
  std::string connected_dsn;
};

JobNotificationListener::JobNotificationListener(const ConnectionPool& pool)
    : pool_(pool), state_(std::make_unique<State>()) {}
JobNotificationListener::~JobNotificationListener() = default;

Result<bool> JobNotificationListener::Wait(std::chrono::milliseconds timeout) {
  try {
    const std::string& want = pool_.dsn();
    if (state_->conn && state_->connected_dsn != want) state_->conn.reset();  // switched
    if (!state_->conn) {
      state_->connected_dsn = want;
      state_->conn = std::make_unique<pqxx::connection>(want);
      pqxx::nontransaction(*state_->conn).exec("LISTEN action_job");
    }
    // libpqxx 6.4 consumes notifications without a registered receiver too; the count is what
    // matters here (a wake-up only, the payload is empty).
    auto secs = static_cast<long>(timeout.count() / 1000);
    auto usecs = static_cast<long>((timeout.count() % 1000) * 1000);
    int n = state_->conn->await_notification(secs, usecs);
    // Drain whatever else arrived meanwhile so one burst causes one wake-up.
    while (state_->conn->get_notifs() > 0) ++n;
    return n > 0;
  } catch (const std::exception& e) {
    state_->conn.reset();
    return StatusFromException(e, "listening for action_job notifications");
  }
}

}  // namespace auri
