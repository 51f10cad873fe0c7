#include "dr/pgbackrest/info_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace auri::dr {
namespace {

using nlohmann::json;

std::string StringAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t IntAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

BackupRecord ParseBackup(const json& b) {
  BackupRecord r;
  r.id = StringAt(b, "label");
  r.type = StringAt(b, "type");
  if (auto a = b.find("annotation"); a != b.end() && a->is_object())
    r.label = StringAt(*a, "label");
  if (auto d = b.find("database"); d != b.end()) r.repo = static_cast<int>(IntAt(*d, "repo-key"));
  if (auto t = b.find("timestamp"); t != b.end()) {
    r.start_unix = IntAt(*t, "start");
    r.stop_unix = IntAt(*t, "stop");
  }
  if (auto i = b.find("info"); i != b.end()) {
    r.size_bytes = IntAt(*i, "size");
    if (auto repo = i->find("repository"); repo != i->end())
      r.repo_size_bytes = IntAt(*repo, "size");
  }
  if (auto a = b.find("archive"); a != b.end()) {
    r.wal_start = StringAt(*a, "start");
    r.wal_stop = StringAt(*a, "stop");
  }
  if (auto l = b.find("lsn"); l != b.end() && l->is_object()) {
    r.lsn_start = StringAt(*l, "start");
    r.lsn_stop = StringAt(*l, "stop");
  }
  if (auto p = b.find("prior"); p != b.end() && p->is_string()) r.prior = p->get<std::string>();
  if (auto e = b.find("error"); e != b.end() && e->is_boolean()) r.error = e->get<bool>();
  return r;
}

}  // namespace

Result<BackupCatalog> ParseInfoJson(const std::string& text, const std::string& stanza) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) {
    return Unavailable("pgbackrest info did not print the expected json: '" + text.substr(0, 200) +
                       "'");
  }
  for (const json& s : doc) {
    if (!s.is_object() || StringAt(s, "name") != stanza) continue;
    BackupCatalog catalog;
    if (auto repos = s.find("repo"); repos != s.end() && repos->is_array()) {
      for (const json& r : *repos) {
        RepositoryState state;
        state.repo = static_cast<int>(IntAt(r, "key"));
        if (auto st = r.find("status"); st != r.end()) {
          int code = static_cast<int>(IntAt(*st, "code"));
          state.message = StringAt(*st, "message");
          // 0 = ok, 2 = no valid backups (the repository itself works).
          state.ok = code == 0 || code == 2;
        }
        catalog.repos.push_back(state);
      }
    }
    if (auto archives = s.find("archive"); archives != s.end() && archives->is_array()) {
      for (const json& a : *archives) {
        int repo = 0;
        if (auto d = a.find("database"); d != a.end())
          repo = static_cast<int>(IntAt(*d, "repo-key"));
        for (auto& state : catalog.repos) {
          if (state.repo != repo) continue;
          // Several database histories (after an upgrade) each have a range; keep the widest.
          std::string min = StringAt(a, "min"), max = StringAt(a, "max");
          if (!min.empty() && (state.wal_min.empty() || min < state.wal_min)) state.wal_min = min;
          if (max > state.wal_max) state.wal_max = max;
        }
      }
    }
    if (auto backups = s.find("backup"); backups != s.end() && backups->is_array()) {
      for (const json& b : *backups) catalog.backups.push_back(ParseBackup(b));
    }
    std::stable_sort(
        catalog.backups.begin(), catalog.backups.end(),
        [](const BackupRecord& a, const BackupRecord& b) { return a.stop_unix < b.stop_unix; });
    return catalog;
  }
  return NotFound("stanza '" + stanza + "' not found in pgbackrest info",
                  "run `auri up` once so the stanza is created");
}

}  // namespace auri::dr
