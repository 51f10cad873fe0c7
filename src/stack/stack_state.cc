#include "stack/stack_state.h"

#include <nlohmann/json.hpp>

#include "common/fs.h"

namespace auri {

std::string StackStateToJson(const StackState& s) {
  nlohmann::json j;
  j["supervisor_pid"] = s.supervisor_pid;
  j["state"] = s.state;
  j["error"] = s.error;
  j["url"] = s.url;
  j["started_at_ms"] = s.started_at_ms;
  j["components"] = nlohmann::json::array();
  for (const auto& c : s.components) {
    j["components"].push_back({{"name", c.name},
                               {"pid", c.pid},
                               {"port", c.port},
                               {"restarts", c.restarts},
                               {"last_exit", c.last_exit}});
  }
  return j.dump(2) + "\n";
}

Status WriteStackState(const std::string& path, const StackState& state) {
  return WriteFileAtomically(path, StackStateToJson(state), 0644);
}

Result<StackState> ReadStackState(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, 1 << 20));
  try {
    auto j = nlohmann::json::parse(text);
    StackState s;
    s.supervisor_pid = j.at("supervisor_pid").get<pid_t>();
    s.state = j.at("state").get<std::string>();
    s.error = j.value("error", "");
    s.url = j.value("url", "");
    s.started_at_ms = j.value("started_at_ms", int64_t{0});
    for (const auto& c : j.at("components")) {
      s.components.push_back({c.at("name").get<std::string>(), c.at("pid").get<pid_t>(),
                              c.value("port", 0), c.value("restarts", 0),
                              c.value("last_exit", "")});
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return FailedPrecondition("corrupt run file " + path + ": " + e.what(),
                              "if no auri process is running, delete the file");
  }
}

}  // namespace auri
