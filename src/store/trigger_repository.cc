#include "store/trigger_repository.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string_view>
#include <tuple>

#include "store/pg_error.h"

namespace auri {
namespace {

// RFC 3339 UTC with microseconds, the API's timestamp form.
#define AURI_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

// The same instant as a JSON string of the UTC wall time, "YYYY-MM-DDTHH:MI:SS[.f…]" (ISO 8601
// whatever the session's DateStyle; trailing zeros of the fraction dropped), which ApiTimestamp
// turns into the form above. Much cheaper for the server than to_char, so GetTrigger, the
// hottest read, uses it.
#define AURI_TS_JSON(col) "to_json(" col " AT TIME ZONE 'UTC')"

// Column lists, parameterized by how timestamps are rendered (AURI_TS or AURI_TS_JSON).
// clang-format off
#define AURI_TRIGGER_COLUMNS(TS)                                                              \
  "t.id::text, t.organization_id::text, t.user_id::text, t.name, t.description, t.chain_id, " \
  "t.registry, t.enabled, t.is_stateful, t.cb_state, t.cb_failure_count, "                    \
  TS("t.cb_last_failure_time") ", " TS("t.cb_opened_at") ", t.cb_half_open_calls, "           \
  "t.cb_failure_threshold, t.cb_recovery_timeout_seconds, t.cb_half_open_max_calls, "         \
  TS("t.created_at") ", " TS("t.updated_at")
#define AURI_CONDITION_COLUMNS(TS)                                                  \
  "c.id::text, c.trigger_id::text, c.condition_type, c.field, c.operator, c.value, " \
  "c.config::text, " TS("c.created_at") ", " TS("c.updated_at")
#define AURI_ACTION_COLUMNS(TS)                                                  \
  "a.id::text, a.trigger_id::text, a.action_type, a.priority, a.config::text, " \
  TS("a.created_at") ", " TS("a.updated_at")
// clang-format on

constexpr const char* kTriggerColumns = AURI_TRIGGER_COLUMNS(AURI_TS);
constexpr const char* kConditionColumns = AURI_CONDITION_COLUMNS(AURI_TS);
constexpr const char* kActionColumns = AURI_ACTION_COLUMNS(AURI_TS);

constexpr const char* kJobColumns =
    "j.id::text, j.action_id::text, j.event_id, j.action_type, j.priority, j.status, j.attempts, "
    "j.max_attempts, " AURI_TS("j.next_attempt_at") ", j.last_error, j.last_status_code, " AURI_TS(
        "j.created_at") ", " AURI_TS("j.updated_at");

template <typename T>
std::optional<T> Opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

// "YYYY-MM-DDTHH:MI:SS[.f…]" (AURI_TS_JSON, quotes removed) → "YYYY-MM-DDTHH:MI:SS.ffffffZ"
// (AURI_TS). Throws on anything else (caught at the store's edge: kInternal).
std::string ApiTimestamp(std::string_view wall) {
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  bool ok = wall.size() >= 19 && wall.size() <= 26 && wall[4] == '-' && wall[7] == '-' &&
            wall[10] == 'T' && wall[13] == ':' && wall[16] == ':' &&
            (wall.size() == 19 || (wall[19] == '.' && digits(wall.substr(20))));
  if (!ok) throw std::runtime_error("unexpected timestamp text '" + std::string(wall) + "'");
  std::string_view fraction = wall.size() > 20 ? wall.substr(20) : std::string_view();
  std::string out(wall.substr(0, 19));
  out += '.';
  out += fraction;
  out.append(6 - fraction.size(), '0');
  out += 'Z';
  return out;
}

// A timestamp column of AURI_TS_JSON: a JSON string, or NULL.
std::optional<std::string> JsonTimestampField(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  std::string_view text(f.c_str(), f.size());
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') {
    throw std::runtime_error("unexpected timestamp json '" + std::string(text) + "'");
  }
  return ApiTimestamp(text.substr(1, text.size() - 2));
}

enum class TimestampForm { kText, kJson };  // the row's timestamps are AURI_TS or AURI_TS_JSON

TriggerRow ReadTrigger(const pqxx::row& r, TimestampForm form = TimestampForm::kText) {
  if (form == TimestampForm::kJson) {
    TriggerRow t = ReadTrigger(r, TimestampForm::kText);
    t.breaker.last_failure_time = JsonTimestampField(r[11]);
    t.breaker.opened_at = JsonTimestampField(r[12]);
    t.created_at = JsonTimestampField(r[17]).value_or("");
    t.updated_at = JsonTimestampField(r[18]).value_or("");
    return t;
  }
  TriggerRow t;
  t.id = r[0].as<std::string>();
  t.organization_id = r[1].as<std::string>();
  t.user_id = Opt<std::string>(r[2]);
  t.fields.name = r[3].as<std::string>();
  t.fields.description = Opt<std::string>(r[4]);
  t.fields.chain_id = Opt<int64_t>(r[5]);
  t.fields.registry = r[6].as<std::string>();
  t.fields.enabled = r[7].as<bool>();
  t.fields.is_stateful = r[8].as<bool>();
  t.breaker.state = r[9].as<std::string>();
  t.breaker.failure_count = r[10].as<int32_t>();
  t.breaker.last_failure_time = Opt<std::string>(r[11]);
  t.breaker.opened_at = Opt<std::string>(r[12]);
  t.breaker.half_open_calls = r[13].as<int32_t>();
  t.breaker.failure_threshold = r[14].as<int32_t>();
  t.breaker.recovery_timeout_seconds = r[15].as<int32_t>();
  t.breaker.half_open_max_calls = r[16].as<int32_t>();
  t.created_at = r[17].as<std::string>();
  t.updated_at = r[18].as<std::string>();
  return t;
}

ConditionRow ReadCondition(const pqxx::row& r) {
  ConditionRow c;
  c.id = r[0].as<std::string>();
  c.trigger_id = r[1].as<std::string>();
  c.fields.condition_type = r[2].as<std::string>();
  c.fields.field = Opt<std::string>(r[3]);
  c.fields.op = Opt<std::string>(r[4]);
  c.fields.value = r[5].as<std::string>();
  c.fields.config_json = r[6].as<std::string>();
  c.created_at = r[7].as<std::string>();
  c.updated_at = r[8].as<std::string>();
  return c;
}

ActionRow ReadAction(const pqxx::row& r) {
  ActionRow a;
  a.id = r[0].as<std::string>();
  a.trigger_id = r[1].as<std::string>();
  a.fields.action_type = r[2].as<std::string>();
  a.fields.priority = r[3].as<int32_t>();
  a.fields.config_json = r[4].as<std::string>();
  a.created_at = r[5].as<std::string>();
  a.updated_at = r[6].as<std::string>();
  return a;
}

// The children of a trigger read in the same statement arrive as a JSON array of arrays, one
// inner array per row with the columns of AURI_CONDITION_COLUMNS / AURI_ACTION_COLUMNS in order,
// timestamps as AURI_TS_JSON; text values stay strings, so config texts come back byte for byte.
nlohmann::json ParseRowsJson(const pqxx::field& f) {
  nlohmann::json rows = nlohmann::json::parse(f.c_str(), f.c_str() + f.size());
  if (!rows.is_array()) throw std::runtime_error("child rows are not a JSON array");
  return rows;
}

std::optional<std::string> OptString(const nlohmann::json& v) {
  if (v.is_null()) return std::nullopt;
  return v.get<std::string>();
}

ConditionRow ConditionFromJson(const nlohmann::json& r) {
  ConditionRow c;
  c.id = r.at(0).get<std::string>();
  c.trigger_id = r.at(1).get<std::string>();
  c.fields.condition_type = r.at(2).get<std::string>();
  c.fields.field = OptString(r.at(3));
  c.fields.op = OptString(r.at(4));
  c.fields.value = r.at(5).get<std::string>();
  c.fields.config_json = r.at(6).get<std::string>();
  c.created_at = ApiTimestamp(r.at(7).get<std::string>());
  c.updated_at = ApiTimestamp(r.at(8).get<std::string>());
  return c;
}

ActionRow ActionFromJson(const nlohmann::json& r) {
  ActionRow a;
  a.id = r.at(0).get<std::string>();
  a.trigger_id = r.at(1).get<std::string>();
  a.fields.action_type = r.at(2).get<std::string>();
  a.fields.priority = r.at(3).get<int32_t>();
  a.fields.config_json = r.at(4).get<std::string>();
  a.created_at = ApiTimestamp(r.at(5).get<std::string>());
  a.updated_at = ApiTimestamp(r.at(6).get<std::string>());
  return a;
}

JobRow ReadJob(const pqxx::row& r) {
  JobRow j;
  j.id = r[0].as<std::string>();
  j.action_id = Opt<std::string>(r[1]);
  j.event_id = r[2].as<std::string>();
  j.action_type = r[3].as<std::string>();
  j.priority = r[4].as<int32_t>();
  j.status = r[5].as<std::string>();
  j.attempts = r[6].as<int32_t>();
  j.max_attempts = r[7].as<int32_t>();
  j.next_attempt_at = r[8].as<std::string>();
  j.last_error = Opt<std::string>(r[9]);
  j.last_status_code = Opt<int32_t>(r[10]);
  j.created_at = r[11].as<std::string>();
  j.updated_at = r[12].as<std::string>();
  return j;
}

Status TriggerNotFound() { return NotFound("trigger not found"); }

// Runs `body` in one read-write transaction on a pooled connection and commits when it succeeds.
// Exceptions become a Status (the connection is discarded when it was lost).
template <typename R, typename Body>
R InTransaction(ConnectionPool& pool, std::chrono::milliseconds timeout, std::string_view what,
                Body&& body) {
  Result<PooledConnection> conn = pool.Acquire(timeout);
  if (!conn.ok()) return conn.status();
  try {
    pqxx::work tx(conn.value().get());
    R result = body(tx);
    if (result.ok()) tx.commit();
    return result;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.value().MarkBroken();
    return store_internal::StatusFromException(e, what);
  }
}

// The trigger row, locked against concurrent updates of it (and of its children's counts), or
// nullopt when it is not the organization's.
std::optional<TriggerRow> LockTrigger(pqxx::work& tx, const std::string& organization_id,
                                      const std::string& trigger_id) {
  pqxx::result rows = tx.exec_params(std::string("SELECT ") + kTriggerColumns +
                                         " FROM triggers t WHERE t.id = $1::uuid AND "
                                         "t.organization_id = $2::uuid FOR NO KEY UPDATE",
                                     trigger_id, organization_id);
  if (rows.empty()) return std::nullopt;
  return ReadTrigger(rows[0]);
}

bool TriggerExists(pqxx::work& tx, const std::string& organization_id,
                   const std::string& trigger_id) {
  return !tx.exec_params(
                "SELECT 1 FROM triggers WHERE id = $1::uuid AND organization_id = $2::uuid",
                trigger_id, organization_id)
              .empty();
}

ConditionRow InsertCondition(pqxx::work& tx, const std::string& trigger_id,
                             const ConditionFields& f) {
  return ReadCondition(tx.exec_params1(
      std::string("INSERT INTO trigger_conditions AS c (trigger_id, condition_type, field, "
                  "operator, value, config) VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb) "
                  "RETURNING ") +
          kConditionColumns,
      trigger_id, f.condition_type, f.field, f.op, f.value, f.config_json));
}

ActionRow InsertAction(pqxx::work& tx, const std::string& trigger_id, const ActionFields& f) {
  return ReadAction(tx.exec_params1(
      std::string("INSERT INTO trigger_actions AS a (trigger_id, action_type, priority, config) "
                  "VALUES ($1::uuid, $2, $3, $4::jsonb) RETURNING ") +
          kActionColumns,
      trigger_id, f.action_type, f.priority, f.config_json));
}

int64_t CountChildren(pqxx::work& tx, const char* table, const std::string& trigger_id) {
  return tx
      .exec_params1(std::string("SELECT count(*) FROM ") + table + " WHERE trigger_id = $1::uuid",
                    trigger_id)[0]
      .as<int64_t>();
}

}  // namespace

Result<TriggerWithChildren> CreateTrigger(ConnectionPool& pool, const std::string& organization_id,
                                          const std::string& user_id, const TriggerFields& fields,
                                          const std::vector<ConditionFields>& conditions,
                                          const std::vector<ActionFields>& actions,
                                          std::chrono::milliseconds timeout) {
  if (static_cast<int64_t>(conditions.size()) > kMaxConditionsPerTrigger ||
      static_cast<int64_t>(actions.size()) > kMaxActionsPerTrigger) {
    return InvalidArgument("a trigger has at most " + std::to_string(kMaxConditionsPerTrigger) +
                           " conditions and " + std::to_string(kMaxActionsPerTrigger) + " actions");
  }
  return InTransaction<Result<TriggerWithChildren>>(
      pool, timeout, "creating a trigger", [&](pqxx::work& tx) -> Result<TriggerWithChildren> {
        std::optional<std::string> creator;
        if (!user_id.empty()) creator = user_id;
        TriggerWithChildren out;
        out.trigger = ReadTrigger(tx.exec_params1(
            std::string("INSERT INTO triggers AS t (organization_id, user_id, name, description, "
                        "chain_id, registry, enabled, is_stateful) VALUES ($1::uuid, $2::uuid, "
                        "$3, $4, $5, $6, $7, $8) RETURNING ") +
                kTriggerColumns,
            organization_id, creator, fields.name, fields.description, fields.chain_id,
            fields.registry, fields.enabled, fields.is_stateful));
        for (const ConditionFields& c : conditions) {
          out.conditions.push_back(InsertCondition(tx, out.trigger.id, c));
        }
        for (const ActionFields& a : actions) {
          out.actions.push_back(InsertAction(tx, out.trigger.id, a));
        }
        // Same order as GetTrigger returns them.
        std::stable_sort(out.actions.begin(), out.actions.end(),
                         [](const ActionRow& a, const ActionRow& b) {
                           return a.fields.priority < b.fields.priority;
                         });
        return out;
      });
}

Result<RowPage<TriggerRow>> ListTriggers(ConnectionPool& pool, const std::string& organization_id,
                                         const TriggerFilter& filter, int64_t limit, int64_t offset,
                                         std::chrono::milliseconds timeout) {
  return InTransaction<Result<RowPage<TriggerRow>>>(
      pool, timeout, "listing triggers", [&](pqxx::work& tx) -> Result<RowPage<TriggerRow>> {
        const std::string where =
            " FROM triggers t WHERE t.organization_id = $1::uuid "
            "AND ($2::boolean IS NULL OR t.enabled = $2) "
            "AND ($3::text IS NULL OR t.registry = $3) "
            "AND ($4::bigint IS NULL OR t.chain_id = $4) ";
        RowPage<TriggerRow> page;
        page.total = tx.exec_params1("SELECT count(*)" + where, organization_id, filter.enabled,
                                     filter.registry, filter.chain_id)[0]
                         .as<int64_t>();
        pqxx::result rows = tx.exec_params(
            std::string("SELECT ") + kTriggerColumns + where +
                "ORDER BY t.created_at DESC, t.id DESC LIMIT $5 OFFSET $6",
            organization_id, filter.enabled, filter.registry, filter.chain_id, limit, offset);
        for (const pqxx::row& r : rows) page.rows.push_back(ReadTrigger(r));
        return page;
      });
}

Result<TriggerWithChildren> GetTrigger(ConnectionPool& pool, const std::string& organization_id,
                                       const std::string& trigger_id,
                                       std::chrono::milliseconds timeout) {
  // The hottest read of the API (GET /triggers/{id}, and before every update): one prepared
  // statement in autocommit instead of BEGIN + three SELECTs + COMMIT. On a loaded two-core host
  // the round trips and the parse/plan work of each statement were most of the request's cost
  // (docs/benchmarks.md, "Authenticated read"). One statement also reads one snapshot, so the
  // children always belong to the same moment as the trigger row.
  //
  // The children come unordered (an ORDER BY inside json_agg costs a sort per call) with their
  // sort keys, and are ordered here as ListConditions/ListActions order them: conditions by
  // position (the 10th element), actions by priority, creation time and id. Timestamps come as
  // AURI_TS_JSON. Both cut the server's cost of this statement (docs/benchmarks.md).
  static constexpr const char* kSql =
      "SELECT " AURI_TRIGGER_COLUMNS(AURI_TS_JSON)
      ", (SELECT coalesce(json_agg(json_build_array(" AURI_CONDITION_COLUMNS(AURI_TS_JSON)
      ", c.position)), '[]'::json) FROM trigger_conditions c WHERE c.trigger_id = t.id)"
      ", (SELECT coalesce(json_agg(json_build_array(" AURI_ACTION_COLUMNS(AURI_TS_JSON)
      ")), '[]'::json) FROM trigger_actions a WHERE a.trigger_id = t.id) "
      "FROM triggers t WHERE t.id = $1::uuid AND t.organization_id = $2::uuid";
  Result<PooledConnection> conn = pool.Acquire(timeout);
  if (!conn.ok()) return conn.status();
  try {
    // Registers the statement with this connection's pqxx map (a no-op when it already is); pqxx
    // sends PREPARE on the first use of each connection only.
    pqxx::connection& db = conn.value().get();
    db.prepare("auri_get_trigger", kSql);
    pqxx::nontransaction tx(db);
    pqxx::result rows = tx.exec_prepared("auri_get_trigger", trigger_id, organization_id);
    if (rows.empty()) return TriggerNotFound();
    TriggerWithChildren out;
    out.trigger = ReadTrigger(rows[0], TimestampForm::kJson);
    std::vector<std::pair<int64_t, ConditionRow>> conditions;
    for (const nlohmann::json& c : ParseRowsJson(rows[0][19])) {
      conditions.emplace_back(c.at(9).get<int64_t>(), ConditionFromJson(c));
    }
    std::sort(conditions.begin(), conditions.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& entry : conditions) out.conditions.push_back(std::move(entry.second));
    for (const nlohmann::json& a : ParseRowsJson(rows[0][20])) {
      out.actions.push_back(ActionFromJson(a));
    }
    // Fixed-width UTC timestamps sort as text in time order, and lower-case UUID text sorts as
    // PostgreSQL orders uuids (byte by byte).
    std::sort(out.actions.begin(), out.actions.end(), [](const ActionRow& a, const ActionRow& b) {
      return std::tie(a.fields.priority, a.created_at, a.id) <
             std::tie(b.fields.priority, b.created_at, b.id);
    });
    return out;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.value().MarkBroken();
    return store_internal::StatusFromException(e, "reading a trigger");
  }
}

Result<TriggerRow> UpdateTrigger(ConnectionPool& pool, const std::string& organization_id,
                                 const std::string& trigger_id, const TriggerFields& fields,
                                 std::chrono::milliseconds timeout) {
  return InTransaction<Result<TriggerRow>>(
      pool, timeout, "updating a trigger", [&](pqxx::work& tx) -> Result<TriggerRow> {
        std::optional<TriggerRow> current = LockTrigger(tx, organization_id, trigger_id);
        if (!current) return TriggerNotFound();
        if (current->fields.is_stateful && !fields.is_stateful) {
          int64_t stateful = tx.exec_params1(
                                   "SELECT count(*) FROM trigger_conditions WHERE trigger_id = "
                                   "$1::uuid AND condition_type IN ('ema_threshold', 'rate_limit')",
                                   trigger_id)[0]
                                 .as<int64_t>();
          if (stateful > 0) {
            return FailedPrecondition(
                "the trigger has " + std::to_string(stateful) +
                " stateful condition(s) (ema_threshold, rate_limit); delete them before setting "
                "is_stateful to false");
          }
        }
        return ReadTrigger(tx.exec_params1(
            std::string("UPDATE triggers t SET name = $3, description = $4, chain_id = $5, "
                        "registry = $6, enabled = $7, is_stateful = $8 "
                        "WHERE t.id = $1::uuid AND t.organization_id = $2::uuid RETURNING ") +
                kTriggerColumns,
            trigger_id, organization_id, fields.name, fields.description, fields.chain_id,
            fields.registry, fields.enabled, fields.is_stateful));
      });
}

Status DeleteTrigger(ConnectionPool& pool, const std::string& organization_id,
                     const std::string& trigger_id, std::chrono::milliseconds timeout) {
  return InTransaction<Status>(pool, timeout, "deleting a trigger", [&](pqxx::work& tx) {
    pqxx::result r = tx.exec_params(
        "DELETE FROM triggers WHERE id = $1::uuid AND organization_id = $2::uuid RETURNING 1",
        trigger_id, organization_id);
    return r.empty() ? TriggerNotFound() : Status::Ok();
  });
}

// ---- Conditions ---------------------------------------------------------------------------------

Result<ConditionRow> CreateCondition(ConnectionPool& pool, const std::string& organization_id,
                                     const std::string& trigger_id, const ConditionFields& fields,
                                     const TriggerCheck& check, std::chrono::milliseconds timeout) {
  return InTransaction<Result<ConditionRow>>(
      pool, timeout, "creating a condition", [&](pqxx::work& tx) -> Result<ConditionRow> {
        std::optional<TriggerRow> trigger = LockTrigger(tx, organization_id, trigger_id);
        if (!trigger) return TriggerNotFound();
        RETURN_IF_ERROR(check(*trigger));
        if (CountChildren(tx, "trigger_conditions", trigger_id) >= kMaxConditionsPerTrigger) {
          return InvalidArgument("a trigger has at most " +
                                 std::to_string(kMaxConditionsPerTrigger) + " conditions");
        }
        return InsertCondition(tx, trigger_id, fields);
      });
}

Result<RowPage<ConditionRow>> ListConditions(ConnectionPool& pool,
                                             const std::string& organization_id,
                                             const std::string& trigger_id, int64_t limit,
                                             int64_t offset, std::chrono::milliseconds timeout) {
  return InTransaction<Result<RowPage<ConditionRow>>>(
      pool, timeout, "listing conditions", [&](pqxx::work& tx) -> Result<RowPage<ConditionRow>> {
        if (!TriggerExists(tx, organization_id, trigger_id)) return TriggerNotFound();
        RowPage<ConditionRow> page;
        page.total = CountChildren(tx, "trigger_conditions", trigger_id);
        for (const pqxx::row& r :
             tx.exec_params(std::string("SELECT ") + kConditionColumns +
                                " FROM trigger_conditions c WHERE c.trigger_id = $1::uuid "
                                "ORDER BY c.position LIMIT $2 OFFSET $3",
                            trigger_id, limit, offset)) {
          page.rows.push_back(ReadCondition(r));
        }
        return page;
      });
}

Result<ConditionRow> UpdateCondition(ConnectionPool& pool, const std::string& organization_id,
                                     const std::string& trigger_id, const std::string& condition_id,
                                     const ConditionFields& fields, const TriggerCheck& check,
                                     std::chrono::milliseconds timeout) {
  return InTransaction<Result<ConditionRow>>(
      pool, timeout, "updating a condition", [&](pqxx::work& tx) -> Result<ConditionRow> {
        std::optional<TriggerRow> trigger = LockTrigger(tx, organization_id, trigger_id);
        if (!trigger) return TriggerNotFound();
        RETURN_IF_ERROR(check(*trigger));
        pqxx::result rows = tx.exec_params(
            std::string("UPDATE trigger_conditions c SET condition_type = $3, field = $4, "
                        "operator = $5, value = $6, config = $7::jsonb "
                        "WHERE c.id = $1::uuid AND c.trigger_id = $2::uuid RETURNING ") +
                kConditionColumns,
            condition_id, trigger_id, fields.condition_type, fields.field, fields.op, fields.value,
            fields.config_json);
        if (rows.empty()) return NotFound("condition not found");
        // The stored state (an EMA, a rate window) belonged to the old definition.
        tx.exec_params("DELETE FROM trigger_state WHERE condition_id = $1::uuid", condition_id);
        return ReadCondition(rows[0]);
      });
}

Status DeleteCondition(ConnectionPool& pool, const std::string& organization_id,
                       const std::string& trigger_id, const std::string& condition_id,
                       std::chrono::milliseconds timeout) {
  return InTransaction<Status>(pool, timeout, "deleting a condition", [&](pqxx::work& tx) {
    if (!LockTrigger(tx, organization_id, trigger_id)) return TriggerNotFound();
    pqxx::result r = tx.exec_params(
        "DELETE FROM trigger_conditions WHERE id = $1::uuid AND trigger_id = $2::uuid RETURNING 1",
        condition_id, trigger_id);
    return r.empty() ? NotFound("condition not found") : Status::Ok();
  });
}

// ---- Actions ------------------------------------------------------------------------------------

Result<ActionRow> CreateAction(ConnectionPool& pool, const std::string& organization_id,
                               const std::string& trigger_id, const ActionFields& fields,
                               std::chrono::milliseconds timeout) {
  return InTransaction<Result<ActionRow>>(
      pool, timeout, "creating an action", [&](pqxx::work& tx) -> Result<ActionRow> {
        if (!LockTrigger(tx, organization_id, trigger_id)) return TriggerNotFound();
        if (CountChildren(tx, "trigger_actions", trigger_id) >= kMaxActionsPerTrigger) {
          return InvalidArgument("a trigger has at most " + std::to_string(kMaxActionsPerTrigger) +
                                 " actions");
        }
        return InsertAction(tx, trigger_id, fields);
      });
}

Result<RowPage<ActionRow>> ListActions(ConnectionPool& pool, const std::string& organization_id,
                                       const std::string& trigger_id, int64_t limit, int64_t offset,
                                       std::chrono::milliseconds timeout) {
  return InTransaction<Result<RowPage<ActionRow>>>(
      pool, timeout, "listing actions", [&](pqxx::work& tx) -> Result<RowPage<ActionRow>> {
        if (!TriggerExists(tx, organization_id, trigger_id)) return TriggerNotFound();
        RowPage<ActionRow> page;
        page.total = CountChildren(tx, "trigger_actions", trigger_id);
        for (const pqxx::row& r :
             tx.exec_params(std::string("SELECT ") + kActionColumns +
                                " FROM trigger_actions a WHERE a.trigger_id = $1::uuid "
                                "ORDER BY a.priority, a.created_at, a.id LIMIT $2 OFFSET $3",
                            trigger_id, limit, offset)) {
          page.rows.push_back(ReadAction(r));
        }
        return page;
      });
}

Result<ActionRow> UpdateAction(ConnectionPool& pool, const std::string& organization_id,
                               const std::string& trigger_id, const std::string& action_id,
                               const ActionFields& fields, std::chrono::milliseconds timeout) {
  return InTransaction<Result<ActionRow>>(
      pool, timeout, "updating an action", [&](pqxx::work& tx) -> Result<ActionRow> {
        if (!LockTrigger(tx, organization_id, trigger_id)) return TriggerNotFound();
        pqxx::result rows = tx.exec_params(
            std::string("UPDATE trigger_actions a SET action_type = $3, priority = $4, "
                        "config = $5::jsonb WHERE a.id = $1::uuid AND a.trigger_id = $2::uuid "
                        "RETURNING ") +
                kActionColumns,
            action_id, trigger_id, fields.action_type, fields.priority, fields.config_json);
        if (rows.empty()) return NotFound("action not found");
        return ReadAction(rows[0]);
      });
}

Status DeleteAction(ConnectionPool& pool, const std::string& organization_id,
                    const std::string& trigger_id, const std::string& action_id,
                    std::chrono::milliseconds timeout) {
  return InTransaction<Status>(pool, timeout, "deleting an action", [&](pqxx::work& tx) {
    if (!LockTrigger(tx, organization_id, trigger_id)) return TriggerNotFound();
    pqxx::result r = tx.exec_params(
        "DELETE FROM trigger_actions WHERE id = $1::uuid AND trigger_id = $2::uuid RETURNING 1",
        action_id, trigger_id);
    return r.empty() ? NotFound("action not found") : Status::Ok();
  });
}

// ---- Circuit breaker ----------------------------------------------------------------------------

Result<TriggerRow> UpdateBreakerConfig(ConnectionPool& pool, const std::string& organization_id,
                                       const std::string& trigger_id, int32_t failure_threshold,
                                       int32_t recovery_timeout_seconds,
                                       int32_t half_open_max_calls,
                                       std::chrono::milliseconds timeout) {
  return InTransaction<Result<TriggerRow>>(
      pool, timeout, "updating a circuit breaker", [&](pqxx::work& tx) -> Result<TriggerRow> {
        pqxx::result rows = tx.exec_params(
            std::string("UPDATE triggers t SET cb_failure_threshold = $3, "
                        "cb_recovery_timeout_seconds = $4, cb_half_open_max_calls = $5 "
                        "WHERE t.id = $1::uuid AND t.organization_id = $2::uuid RETURNING ") +
                kTriggerColumns,
            trigger_id, organization_id, failure_threshold, recovery_timeout_seconds,
            half_open_max_calls);
        if (rows.empty()) return TriggerNotFound();
        return ReadTrigger(rows[0]);
      });
}

Result<TriggerRow> ResetBreaker(ConnectionPool& pool, const std::string& organization_id,
                                const std::string& trigger_id, std::chrono::milliseconds timeout) {
  return InTransaction<Result<TriggerRow>>(
      pool, timeout, "resetting a circuit breaker", [&](pqxx::work& tx) -> Result<TriggerRow> {
        pqxx::result rows = tx.exec_params(
            std::string("UPDATE triggers t SET cb_state = 'Closed', cb_failure_count = 0, "
                        "cb_last_failure_time = NULL, cb_opened_at = NULL, "
                        "cb_half_open_calls = 0 "
                        "WHERE t.id = $1::uuid AND t.organization_id = $2::uuid RETURNING ") +
                kTriggerColumns,
            trigger_id, organization_id);
        if (rows.empty()) return TriggerNotFound();
        return ReadTrigger(rows[0]);
      });
}

// ---- Delivery history ---------------------------------------------------------------------------

Result<RowPage<ActionResultRow>> ListActionResults(ConnectionPool& pool,
                                                   const std::string& organization_id,
                                                   const std::string& trigger_id, int64_t limit,
                                                   int64_t offset,
                                                   std::chrono::milliseconds timeout) {
  return InTransaction<Result<RowPage<ActionResultRow>>>(
      pool, timeout, "listing action results",
      [&](pqxx::work& tx) -> Result<RowPage<ActionResultRow>> {
        if (!TriggerExists(tx, organization_id, trigger_id)) return TriggerNotFound();
        RowPage<ActionResultRow> page;
        page.total = CountChildren(tx, "action_results", trigger_id);
        for (const pqxx::row& r : tx.exec_params(
                 "SELECT r.id::text, r.job_id::text, r.event_id, r.action_type, r.status, "
                 "r.attempts, r.duration_ms, r.status_code, r.error, r.response_excerpt, " AURI_TS(
                     "r.created_at") " FROM action_results r WHERE r.trigger_id = $1::uuid "
                                     "ORDER BY r.created_at DESC, r.id DESC LIMIT $2 OFFSET $3",
                 trigger_id, limit, offset)) {
          ActionResultRow a;
          a.id = r[0].as<std::string>();
          a.job_id = r[1].as<std::string>();
          a.event_id = r[2].as<std::string>();
          a.action_type = r[3].as<std::string>();
          a.status = r[4].as<std::string>();
          a.attempts = r[5].as<int32_t>();
          a.duration_ms = r[6].as<int64_t>();
          a.status_code = Opt<int32_t>(r[7]);
          a.error = Opt<std::string>(r[8]);
          a.response_excerpt = Opt<std::string>(r[9]);
          a.created_at = r[10].as<std::string>();
          page.rows.push_back(std::move(a));
        }
        return page;
      });
}

Result<RowPage<JobRow>> ListDeadLetters(ConnectionPool& pool, const std::string& organization_id,
                                        const std::string& trigger_id, int64_t limit,
                                        int64_t offset, std::chrono::milliseconds timeout) {
  return InTransaction<Result<RowPage<JobRow>>>(
      pool, timeout, "listing dead letters", [&](pqxx::work& tx) -> Result<RowPage<JobRow>> {
        if (!TriggerExists(tx, organization_id, trigger_id)) return TriggerNotFound();
        RowPage<JobRow> page;
        page.total = tx.exec_params1(
                           "SELECT count(*) FROM action_jobs WHERE trigger_id = "
                           "$1::uuid AND status = 'dead'",
                           trigger_id)[0]
                         .as<int64_t>();
        for (const pqxx::row& r :
             tx.exec_params(std::string("SELECT ") + kJobColumns +
                                " FROM action_jobs j WHERE j.trigger_id = $1::uuid AND "
                                "j.status = 'dead' ORDER BY j.updated_at DESC, j.id DESC "
                                "LIMIT $2 OFFSET $3",
                            trigger_id, limit, offset)) {
          page.rows.push_back(ReadJob(r));
        }
        return page;
      });
}

Result<JobRow> ReplayDeadLetter(ConnectionPool& pool, const std::string& organization_id,
                                const std::string& trigger_id, const std::string& job_id,
                                std::chrono::milliseconds timeout) {
  return InTransaction<Result<JobRow>>(
      pool, timeout, "replaying a dead letter", [&](pqxx::work& tx) -> Result<JobRow> {
        if (!TriggerExists(tx, organization_id, trigger_id)) return TriggerNotFound();
        pqxx::result current = tx.exec_params(
            "SELECT status FROM action_jobs WHERE id = $1::uuid AND trigger_id = $2::uuid "
            "FOR UPDATE",
            job_id, trigger_id);
        if (current.empty()) return NotFound("job not found");
        std::string status = current[0][0].as<std::string>();
        if (status != "dead") {
          return FailedPrecondition("job is " + status + ", not dead; only dead letters replay");
        }
        return ReadJob(tx.exec_params1(
            std::string("UPDATE action_jobs j SET status = 'pending', attempts = 0, "
                        "next_attempt_at = now(), lease_owner = NULL, lease_expires_at = NULL "
                        "WHERE j.id = $1::uuid RETURNING ") +
                kJobColumns,
            job_id));
      });
}

// ---- Events -------------------------------------------------------------------------------------

Result<RowPage<std::string>> QueryEvents(ConnectionPool& pool, const EventFilter& filter,
                                         int64_t limit, int64_t offset,
                                         std::chrono::milliseconds timeout) {
  return InTransaction<Result<RowPage<std::string>>>(
      pool, timeout, "querying events", [&](pqxx::work& tx) -> Result<RowPage<std::string>> {
        const std::string where =
            " FROM events e WHERE ($1::bigint IS NULL OR e.chain_id = $1) "
            "AND ($2::text IS NULL OR e.registry = $2) "
            "AND ($3::text IS NULL OR e.event_type = $3) "
            "AND ($4::bigint IS NULL OR e.agent_id = $4) "
            "AND ($5::bigint IS NULL OR e.block_time >= "
            "     'epoch'::timestamptz + $5::bigint * interval '1 microsecond') "
            "AND ($6::bigint IS NULL OR e.block_time < "
            "     'epoch'::timestamptz + $6::bigint * interval '1 microsecond') ";
        RowPage<std::string> page;
        page.total = tx.exec_params1("SELECT count(*)" + where, filter.chain_id, filter.registry,
                                     filter.event_type, filter.agent_id, filter.since_unix_micros,
                                     filter.until_unix_micros)[0]
                         .as<int64_t>();
        for (const pqxx::row& r : tx.exec_params(
                 "SELECT ((to_jsonb(e) - 'block_time' - 'ingested_at') || "
                 "jsonb_build_object('ingested_at', " AURI_TS("e.ingested_at") "))::text" +
                     where +
                     "ORDER BY e.block_time DESC, e.block_number DESC, e.log_index DESC, e.id "
                     "LIMIT $7 OFFSET $8",
                 filter.chain_id, filter.registry, filter.event_type, filter.agent_id,
                 filter.since_unix_micros, filter.until_unix_micros, limit, offset)) {
          page.rows.push_back(r[0].as<std::string>());
        }
        return page;
      });
}

}  // namespace auri
