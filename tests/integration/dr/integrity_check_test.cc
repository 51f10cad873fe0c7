// The application invariants of `auri dr check` (dr/check): a database that breaks one fails the
// "invariants" check, naming the invariant and the number of offending rows.
#include "dr/check/integrity_check.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "tests/integration/delivery/delivery_test_util.h"
#include "tests/integration/harness.h"

namespace auri {
namespace {

using testing::CreateMigratedDatabase;

std::string InvariantsDetail(const std::string& dsn) {
  dr::IntegrityOptions o;
  o.dsn = dsn;
  auto report = dr::RunIntegrityChecks(o);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  if (!report.ok()) return "";
  for (const auto& c : report->checks) {
    if (c.name == "invariants") return (c.passed ? "passed: " : "FAILED: ") + c.detail;
  }
  return "no invariants check";
}

// The invariants check failed, with exactly one violation of the invariant `name`.
void ExpectOneViolationOf(const std::string& dsn, const std::string& name) {
  std::string detail = InvariantsDetail(dsn);
  EXPECT_EQ(detail.rfind("FAILED: ", 0), 0u) << detail;
  EXPECT_NE(detail.find(name + ": 1"), std::string::npos) << detail;
}

// A reputation trigger named `name` in `org`; returns its id.
std::string InsertTrigger(pqxx::work& tx, const std::string& org, const std::string& name) {
  return tx
      .exec1("INSERT INTO triggers (organization_id, name, registry) VALUES ('" + org + "', '" +
             name + "', 'reputation') RETURNING id")[0]
      .as<std::string>();
}

TEST(IntegrityCheckTest, ResultWhoseTriggerIsNotItsJobsFailsTheInvariants) {
  // action_results.trigger_id has no foreign key since migration 0006 (it is copied from the
  // job); the invariant is what still catches a result filed under another trigger.
  std::string dsn = CreateMigratedDatabase();
  std::string org = testing::CreateOrganizationWithOwner(dsn);
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  std::string t1 = InsertTrigger(tx, org, "one");
  std::string t2 = InsertTrigger(tx, org, "two");
  std::string job = tx.exec1(
                          "INSERT INTO action_jobs (trigger_id, event_id, action_type, config, "
                          "event_data) VALUES ('" +
                          t1 + "', 'ev-1', 'webhook', '{}', '{}') RETURNING id")[0]
                        .as<std::string>();
  tx.exec0(
      "INSERT INTO action_results (job_id, trigger_id, event_id, action_type, status, "
      "attempts) VALUES ('" +
      job + "', '" + t1 + "', 'ev-1', 'webhook', 'success', 1)");
  tx.commit();
  const std::string name = "action_results whose trigger is not their job's";
  EXPECT_EQ(InvariantsDetail(dsn).find(name), std::string::npos) << InvariantsDetail(dsn);

  pqxx::work tamper(conn);
  tamper.exec0("UPDATE action_results SET trigger_id = '" + t2 + "'");
  tamper.commit();
  ExpectOneViolationOf(dsn, name);
}

TEST(IntegrityCheckTest, JobNamingAMissingActionFailsTheInvariants) {
  // action_jobs.action_id has no foreign key since migration 0007; deleting an action clears it
  // (a trigger does), and the invariant catches a job that names an action that is not there.
  std::string dsn = CreateMigratedDatabase();
  std::string org = testing::CreateOrganizationWithOwner(dsn);
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  std::string t = InsertTrigger(tx, org, "one");
  std::string a =
      tx.exec1("INSERT INTO trigger_actions (trigger_id, action_type, config) VALUES ('" + t +
               "', 'webhook', '{\"url\": \"http://127.0.0.1:9/\"}') RETURNING id")[0]
          .as<std::string>();
  tx.exec0(
      "INSERT INTO action_jobs (trigger_id, action_id, event_id, action_type, config, "
      "event_data) VALUES ('" +
      t + "', '" + a + "', 'ev-1', 'webhook', '{}', '{}')");
  tx.commit();
  const std::string name = "action_jobs whose action is missing";
  EXPECT_EQ(InvariantsDetail(dsn).find(name), std::string::npos) << InvariantsDetail(dsn);

  // Deleting the action the supported way clears the reference: still consistent.
  pqxx::work del(conn);
  del.exec0("DELETE FROM trigger_actions WHERE id = '" + a + "'");
  del.commit();
  EXPECT_EQ(InvariantsDetail(dsn).find(name), std::string::npos) << InvariantsDetail(dsn);

  pqxx::work tamper(conn);
  tamper.exec0("UPDATE action_jobs SET action_id = '" + a + "'");
  tamper.commit();
  ExpectOneViolationOf(dsn, name);
}

}  // namespace
}  // namespace auri
