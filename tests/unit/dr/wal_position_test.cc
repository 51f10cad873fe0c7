#include "dr/wal_position.h"

#include <gtest/gtest.h>

namespace auri::dr {
namespace {

TEST(WalPositionTest, LsnTextAndBytesRoundTrip) {
  EXPECT_EQ(LsnToBytes("16/B374D848"), (int64_t{0x16} << 32) | 0xB374D848);
  EXPECT_EQ(BytesToLsn((int64_t{0x16} << 32) | 0xB374D848), "16/B374D848");
  EXPECT_EQ(BytesToLsn(0), "0/0");
  EXPECT_EQ(BytesToLsn(-5), "0/0");
  EXPECT_EQ(LsnToBytes(BytesToLsn(int64_t{3} * 16 * 1024 * 1024)), int64_t{3} * 16 * 1024 * 1024);
  EXPECT_EQ(LsnToBytes("nonsense"), -1);
}

TEST(WalPositionTest, SegmentNameMapsToItsStartBytes) {
  EXPECT_EQ(SegmentStartBytes("000000010000000000000003"), int64_t{3} * 16 * 1024 * 1024);
  EXPECT_EQ(SegmentStartBytes("000000020000000100000000"), int64_t{1} << 32);
  EXPECT_EQ(SegmentStartBytes("short"), -1);
}

}  // namespace
}  // namespace auri::dr
