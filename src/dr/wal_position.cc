#include "dr/wal_position.h"

#include <cstdio>
#include <cstdlib>

namespace auri::dr {
namespace {

bool ParseHex(const std::string& text, int64_t* out) {
  if (text.empty() || text.size() > 16) return false;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 16);
  if (*end != '\0') return false;
  *out = static_cast<int64_t>(v);
  return true;
}

}  // namespace

int64_t LsnToBytes(const std::string& lsn) {
  auto slash = lsn.find('/');
  int64_t hi = 0, lo = 0;
  if (slash == std::string::npos || !ParseHex(lsn.substr(0, slash), &hi) ||
      !ParseHex(lsn.substr(slash + 1), &lo) || hi > 0xffffffffLL || lo > 0xffffffffLL) {
    return -1;
  }
  return (hi << 32) | lo;
}

std::string BytesToLsn(int64_t bytes) {
  if (bytes < 0) bytes = 0;
  char text[32];
  std::snprintf(text, sizeof(text), "%llX/%llX", static_cast<unsigned long long>(bytes >> 32),
                static_cast<unsigned long long>(bytes & 0xffffffffLL));
  return text;
}

int64_t SegmentStartBytes(const std::string& name, int64_t segment_bytes) {
  int64_t log = 0, seg = 0;
  if (name.size() < 24 || !ParseHex(name.substr(8, 8), &log) ||
      !ParseHex(name.substr(16, 8), &seg) || segment_bytes <= 0) {
    return -1;
  }
  // A "log" is 4 GiB of WAL, split into 4 GiB / segment_bytes segments.
  return log * (int64_t{1} << 32) + seg * segment_bytes;
}

}  // namespace auri::dr
