#pragma once
// WAL positions as byte offsets, for lag and replay arithmetic: an LSN "16/B374D848" and a segment
// file name "000000010000001600000003" (timeline, log, segment) both map to bytes since the start
// of WAL. The timeline is ignored: positions continue across a promotion.
#include <cstdint>
#include <string>

namespace auri::dr {

inline constexpr int64_t kDefaultWalSegmentBytes = 16 * 1024 * 1024;

// "16/B374D848" → bytes; -1 when malformed.
int64_t LsnToBytes(const std::string& lsn);

// Bytes → "16/B374D848" (the inverse of LsnToBytes); "0/0" for negative input.
std::string BytesToLsn(int64_t bytes);

// The byte offset where segment `name` starts; -1 when the name is not a WAL segment name.
int64_t SegmentStartBytes(const std::string& name, int64_t segment_bytes = kDefaultWalSegmentBytes);

}  // namespace auri::dr
