// The DR lock: one disaster-recovery command at a time per home.
#include "dr/dr_lock.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

namespace auri::dr {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/auri-drlock-XXXXXX";
  return ::mkdtemp(tmpl);
}

TEST(DrLockTest, SecondHolderIsRefusedNamingTheFirst) {
  std::string dir = TempDir();
  auto first = DrLock::Acquire(dir, "backup create");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = DrLock::Acquire(dir, "restore");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);  // exit 4
  EXPECT_NE(second.status().message().find("auri backup create"), std::string::npos)
      << second.status().message();
}

TEST(DrLockTest, ReleasedWhenTheHolderGoes) {
  std::string dir = TempDir();
  {
    auto first = DrLock::Acquire(dir, "backup verify");
    ASSERT_TRUE(first.ok());
  }
  auto again = DrLock::Acquire(dir, "backup verify");
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

}  // namespace
}  // namespace auri::dr
