#include "dr/drill/seed_data.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "common/random.h"
#include "dr/checklist/http_call.h"

namespace auri::dr {
namespace {

using nlohmann::json;
constexpr std::chrono::milliseconds kCallTimeout{10000};
constexpr int64_t kSeedChainId = 11155111;  // Sepolia, where the seed's fixtures come from

Result<json> Call(const std::string& method, const std::string& url,
                  const std::vector<std::string>& headers, const json& body, long want) {
  Result<HttpReply> r = HttpCall(method, url, headers, body.dump(), kCallTimeout);
  if (!r.ok()) return r.status().WithContext("seeding: " + method + " " + url);
  if (r->status != want) {
    return Unavailable("seeding: " + method + " " + url + " answered HTTP " +
                       std::to_string(r->status) + ": " + r->body.substr(0, 200));
  }
  json j = json::parse(r->body, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

}  // namespace

Result<SeedSummary> SeedThroughApi(const SeedOptions& o) {
  SeedSummary s;
  const std::string api = o.api_url + "/api/v1";
  for (int u = 0; u < o.users; ++u) {
    std::string name = "drill-user-" + std::to_string(u + 1) + "-" + RandomHex(4);
    json reg = {{"username", name},
                {"email", name + "@drill.invalid"},
                {"password", "Dr1ll!" + RandomHex(10) + "xY"}};
    ASSIGN_OR_RETURN(json registered, Call("POST", api + "/auth/register", {}, reg, 201));
    std::string token = registered.value("token", "");
    std::vector<std::string> auth = {"Authorization: Bearer " + token};
    ASSIGN_OR_RETURN(json me, Call("GET", api + "/auth/me", auth, json(), 200));
    if (!me.contains("organizations") || me["organizations"].empty()) {
      return Unavailable("seeding: /auth/me lists no organization for " + name);
    }
    std::string org = me["organizations"][0].value("id", "");
    ++s.users;
    ++s.organizations;
    s.organization_ids.push_back(org);
    auth.push_back("X-Organization-ID: " + org);

    json key = {{"name", "drill key"}, {"permissions", {"read"}}};
    RETURN_IF_ERROR(
        Call("POST", api + "/organizations/" + org + "/api-keys", auth, key, 201).status());
    ++s.api_keys;

    for (int t = 0; t < o.triggers_per_user; ++t) {
      // Agents in the 9·10^12 range: no seeded event names them, so nothing fires.
      int64_t agent = 9'000'000'000'000LL + u * 1000 + t;
      json trigger = {
          {"name", "drill trigger " + std::to_string(u + 1) + "." + std::to_string(t + 1)},
          {"registry", "reputation"},
          {"chain_id", kSeedChainId},
          {"conditions",
           {{{"condition_type", "agent_id_equals"}, {"value", std::to_string(agent)}},
            {{"condition_type", "score_threshold"}, {"operator", ">="}, {"value", "80"}}}},
          {"actions",
           {{{"action_type", "webhook"},
             {"config",
              {{"url", "https://hooks.example.com/auri-drill/" + std::to_string(agent)}}}}}}};
      RETURN_IF_ERROR(Call("POST", api + "/triggers", auth, trigger, 201).status());
      ++s.triggers;
      s.conditions += 2;
      s.actions += 1;
    }
  }

  int64_t now = static_cast<int64_t>(std::time(nullptr));
  const std::vector<std::string> ingest = {"Authorization: Bearer " + o.ingest_token};
  for (int done = 0; done < o.events;) {
    int batch = std::min(1000, o.events - done);
    std::string tx = "0x" + RandomHex(32);
    json events = json::array();
    for (int i = 0; i < batch; ++i) {
      int n = done + i;
      events.push_back({{"chain_id", kSeedChainId},
                        {"block_number", 9745219 + n},
                        {"block_hash", nullptr},
                        {"transaction_hash", tx},
                        {"log_index", i},
                        {"registry", "reputation"},
                        {"event_type", "NewFeedback"},
                        {"agent_id", 3234 + n % 97},
                        {"timestamp", now},
                        {"client_address", "0x" + RandomHex(20)},
                        {"feedback_index", n},
                        {"score", n % 101}});
    }
    RETURN_IF_ERROR(Call("POST", api + "/events", ingest, json{{"events", events}}, 202).status());
    done += batch;
    s.events = done;
  }
  return s;
}

std::string DescribeSeed(const SeedSummary& s) {
  return std::to_string(s.users) + " users, " + std::to_string(s.organizations) +
         " organizations, " + std::to_string(s.api_keys) + " api keys, " +
         std::to_string(s.triggers) + " triggers (" + std::to_string(s.conditions) +
         " conditions, " + std::to_string(s.actions) + " actions), " + std::to_string(s.events) +
         " events";
}

}  // namespace auri::dr
