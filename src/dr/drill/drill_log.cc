#include "dr/drill/drill_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/fs.h"

namespace auri::dr {
namespace {

using nlohmann::json;

// The drill log is read by people and by `auri drill report`; a 10 MiB cap is tens of thousands
// of drills.
constexpr size_t kMaxLogBytes = 10 << 20;

json OptionalNumber(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::optional<double> NumberOrNone(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string Seconds(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, *v < 10 ? "%.2f s" : "%.1f s", *v);
  return buf;
}

std::string Fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// "2026-11-26T00:38:05.123456Z" → "2026-11-26 00:38".
std::string ShortDate(const std::string& rfc3339) {
  if (rfc3339.size() < 16) return rfc3339;
  return rfc3339.substr(0, 10) + " " + rfc3339.substr(11, 5);
}

// Markdown table cells must not contain '|' or line breaks.
std::string Cell(std::string text) {
  for (char& c : text) {
    if (c == '|') c = '/';
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text.empty() ? "-" : text;
}

int64_t UnixOf(const std::string& rfc3339) {
  struct tm tm {};
  if (rfc3339.size() < 19 || !strptime(rfc3339.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) {
    return 0;
  }
  return static_cast<int64_t>(timegm(&tm));
}

struct Kind {
  const char* drill;
  const char* title;      // the seed's name for it
  const char* frequency;  // the seed's schedule (or ours where the seed has none)
  int days;
};

// Every drill of spec 40-dr.md, "Drills", in its order.
constexpr Kind kKinds[] = {
    {"snapshot-restore", "Snapshot restore (Test 1)", "Quarterly (CI: every change)", 92},
    {"pitr", "Point-in-time recovery (Scenario 5)", "Quarterly (CI: every change)", 92},
    {"failover", "Failover (Test 2)", "Quarterly", 92},
    {"secret-rotation", "Secret rotation (Test 3)", "Monthly", 31},
    {"redis-loss", "Redis loss", "Quarterly", 92},
    {"full", "Full DR drill (Test 4)", "Annually", 366},
};

}  // namespace

std::string DrillRecordToJson(const DrillRecord& r) {
  json criteria = json::array();
  for (const auto& c : r.criteria) {
    criteria.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  }
  json measurements = json::parse(r.measurements_json, nullptr, false);
  if (measurements.is_discarded()) measurements = json::object();
  json j = {{"kind", "auri-drill"},
            {"version", 1},
            {"id", r.id},
            {"drill", r.drill},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at},
            {"target", r.target},
            {"result", r.passed ? "pass" : "fail"},
            {"passed", r.passed},
            {"rto_seconds", OptionalNumber(r.rto_seconds)},
            {"rpo_seconds", OptionalNumber(r.rpo_seconds)},
            {"heartbeats_acknowledged", r.heartbeats_acknowledged},
            {"acknowledged_lost", r.acknowledged_lost},
            {"criteria", criteria},
            {"measurements", measurements},
            {"notes", r.notes},
            {"tester", r.tester},
            {"auri_version", r.version}};
  if (!r.error.empty()) j["error"] = r.error;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<DrillRecord> DrillRecordFromJson(const std::string& line) {
  json j = json::parse(line, nullptr, false);
  if (!j.is_object() || j.value("kind", "") != "auri-drill") {
    return InvalidArgument("not a drill record: " + line.substr(0, 80));
  }
  try {
    DrillRecord r;
    r.id = j.value("id", "");
    r.drill = j.value("drill", "");
    r.started_at = j.value("started_at", "");
    r.finished_at = j.value("finished_at", "");
    r.target = j.value("target", "");
    r.passed = j.value("passed", false);
    r.rto_seconds = NumberOrNone(j, "rto_seconds");
    r.rpo_seconds = NumberOrNone(j, "rpo_seconds");
    r.heartbeats_acknowledged = j.value("heartbeats_acknowledged", int64_t{0});
    r.acknowledged_lost = j.value("acknowledged_lost", int64_t{0});
    for (const auto& c : j.value("criteria", json::array())) {
      r.criteria.push_back({c.value("name", ""), c.value("passed", false), c.value("detail", "")});
    }
    r.measurements_json = j.value("measurements", json::object()).dump();
    r.notes = j.value("notes", "");
    r.tester = j.value("tester", "");
    r.version = j.value("auri_version", "");
    r.error = j.value("error", "");
    return r;
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("bad drill record: ") + e.what());
  }
}

std::string DrillLogPath(const std::string& repo_path) { return repo_path + "/drills/log.jsonl"; }

Status AppendDrillRecord(const std::string& repo_path, const DrillRecord& record) {
  const std::string dir = repo_path + "/drills";
  bool created = !PathExists(dir);
  RETURN_IF_ERROR(MakeDirectories(dir, 0755));
  const std::string path = DrillLogPath(repo_path);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open", path);
  // One writer at a time: a line is written with one write() call, but the lock also orders
  // concurrent drills so each line lands whole.
  if (::flock(fd, LOCK_EX) != 0) {
    Status s = ErrnoStatus("flock", path);
    ::close(fd);
    return s;
  }
  std::string line = DrillRecordToJson(record) + "\n";
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = ErrnoStatus("write", path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  Status s = ::fsync(fd) == 0 ? Status::Ok() : ErrnoStatus("fsync", path);
  ::close(fd);
  RETURN_IF_ERROR(s);
  if (created) {
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }
  return Status::Ok();
}

Result<std::vector<DrillRecord>> ReadDrillLog(const std::string& repo_path, int* skipped) {
  if (skipped) *skipped = 0;
  std::vector<DrillRecord> out;
  auto text = ReadFileLimited(DrillLogPath(repo_path), kMaxLogBytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return out;
    return text.status();
  }
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    auto record = DrillRecordFromJson(line);
    if (record.ok()) {
      out.push_back(std::move(record).value());
    } else if (skipped) {
      ++*skipped;
    }
  }
  return out;
}

std::string RenderResultsLog(const std::vector<DrillRecord>& records) {
  std::string out =
      "| Date | Test | Result | RTO | RPO | Notes | Tester |\n"
      "|------|------|--------|-----|-----|-------|--------|\n";
  if (records.empty()) return out + "| - | - | no drill run yet | - | - | - | - |\n";
  std::vector<const DrillRecord*> newest_first;
  for (const auto& r : records) newest_first.push_back(&r);
  std::stable_sort(
      newest_first.begin(), newest_first.end(),
      [](const DrillRecord* a, const DrillRecord* b) { return a->started_at > b->started_at; });
  for (const DrillRecord* r : newest_first) {
    out += "| " + ShortDate(r->started_at) + " | " + Cell(r->drill) + " | " +
           (r->passed ? "PASS" : "FAIL") + " | " + Seconds(r->rto_seconds) + " | " +
           Seconds(r->rpo_seconds) + " | " + Cell(r->notes) + " | " + Cell(r->tester) + " |\n";
  }
  return out;
}

std::vector<LastDrill> LastDrillPerKind(const std::vector<DrillRecord>& records, int64_t now_unix) {
  std::vector<LastDrill> out;
  for (const Kind& k : kKinds) {
    LastDrill d;
    d.drill = k.drill;
    d.title = k.title;
    d.frequency = k.frequency;
    d.max_age_days = k.days;
    for (const auto& r : records) {
      if (r.drill == k.drill && (!d.last || r.started_at >= d.last->started_at)) d.last = r;
    }
    d.overdue = !d.last || now_unix - UnixOf(d.last->started_at) > int64_t{k.days} * 86400;
    out.push_back(std::move(d));
  }
  return out;
}

int64_t DrillTimeUnix(const std::string& rfc3339) { return UnixOf(rfc3339); }

std::string RenderRegularTesting(const std::vector<DrillRecord>& records, int64_t now_unix) {
  std::string out =
      "| Test | Frequency | Last Tested | Result |\n"
      "|------|-----------|-------------|--------|\n";
  for (const LastDrill& d : LastDrillPerKind(records, now_unix)) {
    std::string tested = "never";
    std::string result = "-";
    if (d.last) {
      tested = ShortDate(d.last->started_at) + (d.overdue ? " (overdue)" : "");
      result = d.last->passed ? "PASS" : "FAIL";
    }
    out += "| " + d.title + " (`" + d.drill + "`) | " + d.frequency + " | " + tested + " | " +
           result + " |\n";
  }
  return out;
}

std::string RenderDrillPage(const DrillRecord& r) {
  std::string out = "# DR test: " + r.drill + " — " + (r.passed ? "PASS" : "FAIL") + "\n\n";
  out += "| | |\n|---|---|\n";
  out += "| Drill | `" + r.drill + "` (run " + r.id + ") |\n";
  out += "| Started | " + r.started_at + " |\n";
  out += "| Finished | " + r.finished_at + " |\n";
  out += "| Deployment | " +
         std::string(r.target == "running" ? "the running deployment"
                                           : "a throwaway deployment built for the drill") +
         " |\n";
  out += "| RTO (disaster → first successful API write) | " + Seconds(r.rto_seconds) + " |\n";
  out += "| RPO (acknowledged writes lost, as time) | " + Seconds(r.rpo_seconds) + " |\n";
  out += "| Heartbeats acknowledged / lost | " + std::to_string(r.heartbeats_acknowledged) + " / " +
         std::to_string(r.acknowledged_lost) + " |\n";
  out += "| Tester | " + Cell(r.tester) + " |\n";
  out += "| Auri | " + Cell(r.version) + " |\n";
  if (!r.error.empty()) out += "| Error | " + Cell(r.error) + " |\n";
  out += "\n## Success criteria\n\n| Criterion | Result | Detail |\n|---|---|---|\n";
  for (const auto& c : r.criteria) {
    out += "| " + Cell(c.name) + " | " + (c.passed ? "pass" : "FAIL") + " | " + Cell(c.detail) +
           " |\n";
  }
  json m = json::parse(r.measurements_json, nullptr, false);
  if (m.is_object() && !m.empty()) {
    out += "\n## Measurements\n\n| Measurement | Value |\n|---|---|\n";
    for (auto it = m.begin(); it != m.end(); ++it) {
      std::string value = it->is_string()         ? it->get<std::string>()
                          : it->is_number_float() ? Fixed3(it->get<double>())
                                                  : it->dump();
      out += "| " + Cell(it.key()) + " | " + Cell(value) + " |\n";
    }
  }
  if (!r.notes.empty()) out += "\n## Notes\n\n" + r.notes + "\n";
  out += "\nRecorded by `auri drill " + r.drill + "`; rendered by `auri drill report --write`.\n";
  return out;
}

std::string DrillPageFileName(const DrillRecord& r) {
  std::string date;
  for (char c : r.started_at.substr(0, 10)) {
    if (c != '-') date += c;
  }
  std::string tail = r.id.size() > 6 ? r.id.substr(r.id.size() - 6) : r.id;
  return (date.empty() ? "undated" : date) + "-" + r.drill + "-" + tail + ".md";
}

}  // namespace auri::dr
