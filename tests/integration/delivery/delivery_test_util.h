#pragma once
// Rows every delivery test needs (jobs reference a trigger, which belongs to an organization).
#include <string>

#include "common/random.h"
#include "tests/integration/store/store_test_util.h"

namespace auri::testing {

// An organization with its required owner, in one statement (the schema checks at commit that
// every organization has exactly one owner).
inline std::string CreateOrganizationWithOwner(const std::string& dsn) {
  std::string suffix = RandomHex(4);
  return QueryValue(
      dsn, "WITH u AS (INSERT INTO users (username, email, password_hash) VALUES ('owner" + suffix +
               "', 'owner" + suffix +
               "@example.com', 'x') RETURNING id), "
               "o AS (INSERT INTO organizations (name, slug) VALUES ('o', 'o-" +
               suffix +
               "') RETURNING id), "
               "m AS (INSERT INTO organization_members (organization_id, user_id, role) "
               "SELECT o.id, u.id, 'owner' FROM o, u) "
               "SELECT id FROM o");
}

}  // namespace auri::testing
