#include "config/active_database.h"

#include <nlohmann/json.hpp>

#include "common/fs.h"

namespace auri {

std::string ActiveDatabaseFile(const std::string& home) { return home + "/postgres/active.json"; }

Result<ActiveDatabase> ReadActiveDatabase(const std::string& home) {
  const std::string path = ActiveDatabaseFile(home);
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, 64 * 1024));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& why) {
    return InvalidArgument(path + " is malformed: " + why,
                           "it is written by `auri restore --switch`; restore it from that "
                           "command's output or remove it to use the original cluster");
  };
  if (!j.is_object()) return bad("not a json object");
  ActiveDatabase r;
  try {
    r.instance = j.at("instance").get<std::string>();
    r.data_dir = j.at("data_dir").get<std::string>();
    r.socket_dir = j.at("socket_dir").get<std::string>();
    r.port = j.at("port").get<int>();
    r.switched_at = j.value("switched_at", "");
    r.previous_data_dir = j.value("previous_data_dir", "");
    r.previous_port = j.value("previous_port", 0);
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  if (r.data_dir.empty() || r.data_dir[0] != '/' || r.socket_dir.empty() || r.port < 1 ||
      r.port > 65535) {
    return bad("data_dir and socket_dir must be absolute paths and port in 1..65535");
  }
  return r;
}

Status WriteActiveDatabase(const std::string& home, const ActiveDatabase& r) {
  nlohmann::json j = {{"instance", r.instance},          {"data_dir", r.data_dir},
                      {"socket_dir", r.socket_dir},      {"port", r.port},
                      {"switched_at", r.switched_at},    {"previous_data_dir", r.previous_data_dir},
                      {"previous_port", r.previous_port}};
  RETURN_IF_ERROR(MakeDirectories(home + "/postgres", 0755));
  return WriteFileAtomically(ActiveDatabaseFile(home), j.dump(2) + "\n", 0644);
}

}  // namespace auri
