#pragma once
// The shared fixture of real ERC-8004 events (/work/shared/fixtures/erc8004-real-events.jsonl),
// found next to the source tree or under $AURI_SHARED_DIR.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace auri::testing {

// Path of the fixture file, or "" when neither location has it.
inline std::string RealEventsFixturePath() {
  const std::string name = "fixtures/erc8004-real-events.jsonl";
  std::vector<std::string> candidates = {std::string(AURI_SOURCE_DIR) + "/../shared/" + name};
  if (const char* env = std::getenv("AURI_SHARED_DIR")) {
    candidates.push_back(std::string(env) + "/" + name);
  }
  for (const std::string& path : candidates) {
    if (std::filesystem::exists(path)) return path;
  }
  return "";
}

// The non-empty lines of the file.
inline std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace auri::testing
