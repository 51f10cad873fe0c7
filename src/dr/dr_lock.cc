#include "dr/dr_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/fs.h"

namespace auri::dr {

Result<DrLock> DrLock::Acquire(const std::string& run_dir, const std::string& command) {
  RETURN_IF_ERROR(MakeDirectories(run_dir, 0755));
  std::string path = run_dir + "/dr.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot open lock file", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char holder[256] = {0};
    ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) return ErrnoStatus("cannot lock", path);
    std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "unknown";
    while (!who.empty() && who.back() == '\n') who.pop_back();
    return FailedPrecondition("another disaster-recovery command is running (" + who + ")",
                              "wait for it to finish; the lock is " + path);
  }
  std::string me = "pid " + std::to_string(::getpid()) + ": auri " + command + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, me.data(), me.size(), 0);
  return DrLock(fd);
}

Result<DrLock> DrLock::AcquireWaiting(const std::string& run_dir, const std::string& command,
                                      std::chrono::milliseconds wait,
                                      const std::function<void(const std::string&)>& on_wait) {
  const std::string wanted = run_dir + "/dr.lock.wanted";
  const std::string me = std::to_string(::getpid());
  auto deadline = std::chrono::steady_clock::now() + wait;
  bool told = false;
  while (true) {
    auto lock = Acquire(run_dir, command);
    if (lock.ok() || lock.status().code() != StatusCode::kFailedPrecondition ||
        std::chrono::steady_clock::now() >= deadline) {
      // Withdraw the request, unless another waiter has written its own since.
      if (told) {
        auto holder = ReadFileLimited(wanted, 64);
        if (holder.ok() && *holder == me) ::unlink(wanted.c_str());
      }
      return lock;
    }
    if (!told) {
      if (on_wait) on_wait(lock.status().message());
      (void)WriteFileAtomically(wanted, me, 0644);
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

bool DrLock::SomeoneWaits(const std::string& run_dir) {
  auto text = ReadFileLimited(run_dir + "/dr.lock.wanted", 64);
  if (!text.ok()) return false;
  pid_t pid = static_cast<pid_t>(std::atol(text->c_str()));
  return pid > 0 && pid != ::getpid() && (::kill(pid, 0) == 0 || errno == EPERM);
}

DrLock::~DrLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace auri::dr
