#include "store/user_repository.h"

#include <pqxx/pqxx>

#include "store/pg_error.h"
#include "store/sql_text.h"

namespace auri {
namespace {

using store_internal::Rfc3339Sql;

// The columns UserFromRow reads, in order (users aliased as u).
std::string UserColumns() {
  return "u.id::text, u.username, u.email, u.password_hash, u.is_active, "
         "u.failed_login_attempts, (extract(epoch FROM u.locked_until) * 1000)::bigint, " +
         Rfc3339Sql("u.created_at") + ", " + Rfc3339Sql("u.last_login_at");
}

UserRecord UserFromRow(const pqxx::row& r) {
  UserRecord u;
  u.id = r[0].as<std::string>();
  u.username = r[1].as<std::string>();
  u.email = r[2].as<std::string>();
  u.password_hash = r[3].as<std::string>();
  u.is_active = r[4].as<bool>();
  u.failed_login_attempts = r[5].as<int>();
  if (!r[6].is_null()) u.locked_until_ms = r[6].as<int64_t>();
  u.created_at = r[7].as<std::string>();
  if (!r[8].is_null()) u.last_login_at = r[8].as<std::string>();
  return u;
}

std::optional<std::string> NonEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// Inserts a session token and applies the cap: the live sessions of the user beyond
// `max_live_sessions`, oldest first, are revoked. The user row is locked first so concurrent
// logins of one user count each other's sessions. Returns the new token's id.
std::string InsertSession(pqxx::work& tx, const std::string& user_id, const std::string& family_id,
                          const NewRefreshToken& token, const SessionOrigin& origin,
                          int max_live_sessions) {
  tx.exec_params("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id);
  std::string id =
      tx.exec_params1(
            "INSERT INTO user_refresh_tokens (user_id, token_hash, family_id, expires_at, "
            "user_agent, ip_address) "
            "VALUES ($1, $2, coalesce($3::uuid, gen_random_uuid()), to_timestamp($4::bigint / "
            "1000.0), "
            "$5, $6::inet) RETURNING id::text",
            user_id, token.token_hash, NonEmpty(family_id), token.expires_at_ms,
            NonEmpty(origin.user_agent), NonEmpty(origin.ip))[0]
          .as<std::string>();
  tx.exec_params(
      "UPDATE user_refresh_tokens SET revoked_at = now() WHERE id IN ("
      "  SELECT id FROM user_refresh_tokens"
      "  WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()"
      "  ORDER BY created_at DESC, id DESC OFFSET $2)",
      user_id, max_live_sessions);
  return id;
}

RegisterOutcome OutcomeFromUniqueViolation(const std::string& what) {
  if (what.find("users_email_lower_key") != std::string::npos) return RegisterOutcome::kEmailTaken;
  return RegisterOutcome::kUsernameTaken;
}

}  // namespace

Result<RegisterOutcome> CheckRegistrationAvailable(ConnectionPool& pool,
                                                   const std::string& username,
                                                   const std::string& email,
                                                   std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    pqxx::row r = tx.exec_params1(
        "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1)), "
        "       EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2))",
        username, email);
    if (r[0].as<bool>()) return RegisterOutcome::kUsernameTaken;
    if (r[1].as<bool>()) return RegisterOutcome::kEmailTaken;
    return RegisterOutcome::kCreated;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "checking a registration");
  }
}

Result<RegisterResult> RegisterUser(ConnectionPool& pool, const Registration& reg,
                                    std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::row user_row = tx.exec_params1(
        "INSERT INTO users AS u (username, email, password_hash) VALUES ($1, $2, $3) "
        "RETURNING " +
            UserColumns(),
        reg.username, reg.email, reg.password_hash);
    RegisterResult result;
    result.user = UserFromRow(user_row);
    // The personal slug derives from the username; two usernames can map to the same slug
    // ("a.b" and "a-b"), or someone may have taken it for another organization, so a taken slug
    // gets a short random suffix instead of failing the registration.
    std::string org_id =
        tx.exec_params1(
              "INSERT INTO organizations (name, slug, is_personal) VALUES ($1, "
              "  CASE WHEN EXISTS (SELECT 1 FROM organizations WHERE slug = $2) "
              "       THEN $2 || '-' || substr(md5(gen_random_uuid()::text), 1, 6) ELSE $2 END, "
              "  true) RETURNING id::text",
              reg.organization_name, reg.organization_slug)[0]
            .as<std::string>();
    tx.exec_params(
        "INSERT INTO organization_members (organization_id, user_id, role) "
        "VALUES ($1, $2, 'owner')",
        org_id, result.user.id);
    InsertSession(tx, result.user.id, "", reg.refresh_token, reg.origin, 10);
    tx.commit();
    return result;
  } catch (const pqxx::unique_violation& e) {
    std::string what = e.what();
    if (what.find("users_") != std::string::npos) {
      RegisterResult taken;
      taken.outcome = OutcomeFromUniqueViolation(what);
      return taken;
    }
    return Unavailable(
        "registering a user: the personal organization's slug was taken "
        "concurrently",
        "retry the request");
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "registering a user");
  }
}

Result<std::optional<UserRecord>> FindUserByLogin(ConnectionPool& pool, const std::string& name,
                                                  bool by_email,
                                                  std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    // Each branch matches an expression index (lower(username) / lower(email)).
    std::string where = by_email ? "lower(u.email) = lower($1)" : "lower(u.username) = lower($1)";
    pqxx::result rows =
        tx.exec_params("SELECT " + UserColumns() + " FROM users u WHERE " + where, name);
    if (rows.empty()) return std::optional<UserRecord>();
    return std::optional<UserRecord>(UserFromRow(rows[0]));
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "looking up a user");
  }
}

Result<std::optional<UserRecord>> FindUserById(ConnectionPool& pool, const std::string& user_id,
                                               std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    pqxx::result rows =
        tx.exec_params("SELECT " + UserColumns() + " FROM users u WHERE u.id = $1::uuid", user_id);
    if (rows.empty()) return std::optional<UserRecord>();
    return std::optional<UserRecord>(UserFromRow(rows[0]));
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "looking up a user");
  }
}

Result<LoginFailure> RecordLoginFailure(
    ConnectionPool& pool, const std::string& user_id,
    const std::function<std::optional<int64_t>(int failures)>& lock_until_ms,
    std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    // The UPDATE takes the row lock, so concurrent failures each count.
    LoginFailure out;
    out.failures = tx.exec_params1(
                         "UPDATE users SET failed_login_attempts = "
                         "failed_login_attempts + 1 WHERE id = $1 "
                         "RETURNING failed_login_attempts",
                         user_id)[0]
                       .as<int>();
    out.locked_until_ms = lock_until_ms(out.failures);
    if (out.locked_until_ms) {
      tx.exec_params(
          "UPDATE users SET locked_until = to_timestamp($2::bigint / 1000.0) WHERE id = $1",
          user_id, *out.locked_until_ms);
    }
    tx.commit();
    return out;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "recording a failed login");
  }
}

Result<UserRecord> RecordLoginSuccess(ConnectionPool& pool, const std::string& user_id,
                                      const std::optional<std::string>& new_password_hash,
                                      const NewRefreshToken& token, const SessionOrigin& origin,
                                      int max_live_sessions, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::row row = tx.exec_params1(
        "UPDATE users AS u SET failed_login_attempts = 0, locked_until = NULL, "
        "last_login_at = now(), password_hash = coalesce($2, password_hash) WHERE id = $1 "
        "RETURNING " +
            UserColumns(),
        user_id, new_password_hash);
    UserRecord user = UserFromRow(row);
    InsertSession(tx, user_id, "", token, origin, max_live_sessions);
    tx.commit();
    return user;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "recording a login");
  }
}

Result<RefreshResult> RotateSession(ConnectionPool& pool, const std::string& old_hash,
                                    const NewRefreshToken& next, const SessionOrigin& origin,
                                    int max_live_sessions, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::result rows = tx.exec_params(
        "SELECT t.id::text, t.user_id::text, t.family_id::text, t.revoked_at IS NOT NULL, "
        "       t.replaced_by IS NOT NULL, t.expires_at <= now(), u.username, u.is_active "
        "FROM user_refresh_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.token_hash = $1 FOR UPDATE OF t",
        old_hash);
    RefreshResult result;
    if (rows.empty()) return result;  // kUnknown
    const pqxx::row& r = rows[0];
    std::string id = r[0].as<std::string>();
    result.user_id = r[1].as<std::string>();
    std::string family = r[2].as<std::string>();
    bool revoked = r[3].as<bool>();
    bool rotated = r[4].as<bool>();
    bool expired = r[5].as<bool>();
    if (revoked && rotated) {
      // A token that was already exchanged is presented again: either the client or a thief
      // holds a copy. We cannot tell which, so the whole login (family) ends.
      tx.exec_params(
          "UPDATE user_refresh_tokens SET revoked_at = now() "
          "WHERE family_id = $1 AND revoked_at IS NULL",
          family);
      tx.commit();
      result.outcome = RefreshOutcome::kReuseDetected;
      return result;
    }
    if (revoked || !r[7].as<bool>()) {
      result.outcome = RefreshOutcome::kRevoked;
      return result;
    }
    if (expired) {
      result.outcome = RefreshOutcome::kExpired;
      return result;
    }
    std::string new_id = InsertSession(tx, result.user_id, family, next, origin, max_live_sessions);
    tx.exec_params(
        "UPDATE user_refresh_tokens SET revoked_at = now(), last_used_at = now(), "
        "replaced_by = $2 WHERE id = $1",
        id, new_id);
    tx.commit();
    result.outcome = RefreshOutcome::kRotated;
    result.username = r[6].as<std::string>();
    return result;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "rotating a refresh token");
  }
}

Result<bool> RevokeSession(ConnectionPool& pool, const std::string& user_id,
                           const std::string& token_hash, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::result r = tx.exec_params(
        "UPDATE user_refresh_tokens SET revoked_at = now() "
        "WHERE token_hash = $1 AND user_id = $2::uuid AND revoked_at IS NULL",
        token_hash, user_id);
    tx.commit();
    return r.affected_rows() > 0;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "revoking a refresh token");
  }
}

Result<int64_t> CountLiveSessions(ConnectionPool& pool, const std::string& user_id,
                                  std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    return tx
        .exec_params1(
            "SELECT count(*) FROM user_refresh_tokens WHERE user_id = $1::uuid "
            "AND revoked_at IS NULL AND expires_at > now()",
            user_id)[0]
        .as<int64_t>();
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "counting sessions");
  }
}

Result<std::optional<UserProfile>> LoadUserProfile(ConnectionPool& pool, const std::string& user_id,
                                                   std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::read_transaction tx(conn.get());
    pqxx::result rows =
        tx.exec_params("SELECT " + UserColumns() + " FROM users u WHERE u.id = $1::uuid", user_id);
    if (rows.empty()) return std::optional<UserProfile>();
    UserProfile profile;
    profile.user = UserFromRow(rows[0]);
    pqxx::result orgs = tx.exec_params(
        "SELECT o.id::text, o.name, o.slug, m.role FROM organization_members m "
        "JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1::uuid "
        "ORDER BY m.created_at, o.id",
        user_id);
    for (const pqxx::row& o : orgs) {
      profile.organizations.push_back({o[0].as<std::string>(), o[1].as<std::string>(),
                                       o[2].as<std::string>(), o[3].as<std::string>()});
    }
    return std::optional<UserProfile>(std::move(profile));
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "loading a user profile");
  }
}

Result<AuthCleanupCounts> DeleteExpiredAuthRecords(ConnectionPool& pool,
                                                   std::chrono::hours failure_retention,
                                                   std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    AuthCleanupCounts counts;
    // replaced_by is ON DELETE SET NULL, so deleting an expired token never blocks on the chain.
    counts.refresh_tokens =
        tx.exec("DELETE FROM user_refresh_tokens WHERE expires_at <= now()").affected_rows();
    counts.auth_failures =
        tx.exec_params(
              "DELETE FROM auth_failures WHERE created_at < now() - make_interval("
              "hours => $1)",
              static_cast<int>(failure_retention.count()))
            .affected_rows();
    tx.commit();
    return counts;
  } catch (const std::exception& e) {
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "deleting expired auth records");
  }
}

}  // namespace auri
