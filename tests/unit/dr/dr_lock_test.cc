// The DR lock: one disaster-recovery command at a time per home.
#include "dr/dr_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

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

TEST(DrLockTest, WaitingAcquireGetsTheLockOnceTheHolderLetsGo) {
  std::string dir = TempDir();
  auto first = std::make_unique<Result<DrLock>>(DrLock::Acquire(dir, "dr-agent backup"));
  ASSERT_TRUE(first->ok());
  std::string told;
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    first.reset();
  });
  auto second = DrLock::AcquireWaiting(dir, "backup create", std::chrono::seconds(10),
                                       [&](const std::string& m) { told = m; });
  release.join();
  EXPECT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(told.find("auri dr-agent backup"), std::string::npos) << told;
  EXPECT_FALSE(DrLock::SomeoneWaits(dir));  // the request is withdrawn once it holds the lock
}

TEST(DrLockTest, AWaiterIsVisibleToOtherProcessesWhileItWaits) {
  std::string dir = TempDir();
  auto first = DrLock::Acquire(dir, "dr-agent full backup");
  ASSERT_TRUE(first.ok());
  // A waiter in another process (a manual `auri backup create`).
  pid_t child = ::fork();
  if (child == 0) {
    auto lock = DrLock::AcquireWaiting(dir, "backup create", std::chrono::seconds(5), {});
    ::_exit(0);
  }
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    seen = DrLock::SomeoneWaits(dir);
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(seen);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(DrLock::SomeoneWaits(dir));  // a dead waiter does not count
}

TEST(DrLockTest, WaitingAcquireGivesUpAfterItsWait) {
  std::string dir = TempDir();
  auto first = DrLock::Acquire(dir, "restore");
  ASSERT_TRUE(first.ok());
  auto t0 = std::chrono::steady_clock::now();
  auto second = DrLock::AcquireWaiting(dir, "backup create", std::chrono::milliseconds(500), {});
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace auri::dr
