#include "stack/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;  // POSIX: the process environment

namespace auri {
namespace {

using Clock = std::chrono::steady_clock;

// Writes a message to fd 2 without allocating (safe between fork and exec).
void ChildFail(const char* what) {
  const char* err = std::strerror(errno);
  (void)!::write(2, "auri spawn: ", 12);
  (void)!::write(2, what, std::strlen(what));
  (void)!::write(2, ": ", 2);
  (void)!::write(2, err, std::strlen(err));
  (void)!::write(2, "\n", 1);
  ::_exit(127);
}

}  // namespace

Status LookupUser(const std::string& user, uid_t* uid, gid_t* gid) {
  struct passwd pwd;
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwnam_r(user.c_str(), &pwd, buf, sizeof buf, &found) != 0 || !found) {
    return InvalidArgument("no such OS user: " + user,
                           "create it (apt's postgresql package creates 'postgres') or set "
                           "postgres.run_as");
  }
  *uid = found->pw_uid;
  *gid = found->pw_gid;
  return Status::Ok();
}

Status ChownRecursive(const std::string& path, const std::string& user) {
  uid_t uid;
  gid_t gid;
  RETURN_IF_ERROR(LookupUser(user, &uid, &gid));
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Unavailable("cannot stat " + path);
  if (::lchown(path.c_str(), uid, gid) != 0) {
    return Unavailable("cannot chown " + path + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return Status::Ok();
  DIR* dir = ::opendir(path.c_str());
  if (!dir) return Unavailable("cannot open directory " + path);
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    Status s = ChownRecursive(path + "/" + name, user);
    if (!s.ok()) {
      ::closedir(dir);
      return s;
    }
  }
  ::closedir(dir);
  return Status::Ok();
}

Result<pid_t> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return InvalidArgument("spawn: empty command");
  uid_t uid = 0;
  gid_t gid = 0;
  bool switch_user = !options.run_as_user.empty() && ::geteuid() == 0;
  if (switch_user) RETURN_IF_ERROR(LookupUser(options.run_as_user, &uid, &gid));

  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; e && *e; ++e) env_storage.emplace_back(*e);
  for (const auto& e : options.env) env_storage.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int log_fd = -1;
  if (!options.log_file.empty()) {
    log_fd = ::open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (log_fd < 0) {
      return Unavailable("cannot open log file " + options.log_file + ": " + std::strerror(errno));
    }
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    if (log_fd >= 0) ::close(log_fd);
    return Unavailable(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child. Reset the signal mask and dispositions the supervisor may have changed.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (options.new_session) ::setsid();
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ChildFail("chdir");
    if (switch_user) {
      if (::setgid(gid) != 0) ChildFail("setgid");
      if (::initgroups(options.run_as_user.c_str(), gid) != 0) ChildFail("initgroups");
      if (::setuid(uid) != 0) ChildFail("setuid");
    }
    // After setuid, because changing credentials clears the parent-death signal.
    if (options.parent_death_signal != 0) {
      ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
      if (::getppid() != parent) ::_exit(1);  // the parent already died
    }
    ::execve(argv[0], argv.data(), envp.data());
    ChildFail(argv[0]);
  }
  if (log_fd >= 0) ::close(log_fd);
  return pid;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    return std::string("killed by signal SIG") + (name ? name : std::to_string(WTERMSIG(status)));
  }
  return "stopped";
}

bool ProcessAlive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

Result<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(2);
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) {
      return Internal("waitpid " + std::to_string(pid) + ": " + std::strerror(errno));
    }
    if (Clock::now() >= deadline) {
      return DeadlineExceeded("process " + std::to_string(pid) + " still running");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

Status WaitUntilGone(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (ProcessAlive(pid)) {
    // A zombie of ours would stay "alive": reap it if it is ours (harmless otherwise).
    int status;
    ::waitpid(pid, &status, WNOHANG);
    if (Clock::now() >= deadline) {
      return DeadlineExceeded("process " + std::to_string(pid) + " still running");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Ok();
}

Status StopProcess(pid_t pid, int signal, std::chrono::milliseconds timeout, bool is_child) {
  if (pid <= 0) return Status::Ok();
  if (::kill(pid, signal) != 0 && errno == ESRCH) {
    if (is_child) (void)WaitForExit(pid, std::chrono::milliseconds(100));
    return Status::Ok();
  }
  auto wait = [&](std::chrono::milliseconds t) -> bool {
    if (is_child) return WaitForExit(pid, t).ok();
    return WaitUntilGone(pid, t).ok();
  };
  if (wait(timeout)) return Status::Ok();
  ::kill(pid, SIGKILL);
  if (wait(std::chrono::seconds(5))) return Status::Ok();
  return DeadlineExceeded("process " + std::to_string(pid) + " survived SIGKILL for 5 s");
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::string& run_as_user, std::chrono::milliseconds timeout,
                                 size_t max_output) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Unavailable("pipe failed");
  // Spawn writes to a log file path; for capture we pass the pipe through /proc/self/fd.
  SpawnOptions opts;
  opts.argv = argv;
  opts.run_as_user = run_as_user;
  opts.log_file = "/proc/self/fd/" + std::to_string(fds[1]);
  opts.cwd = "/";
  auto pid_or = Spawn(opts);
  ::close(fds[1]);
  if (!pid_or.ok()) {
    ::close(fds[0]);
    return pid_or.status();
  }
  pid_t pid = *pid_or;
  CommandResult result;
  auto deadline = Clock::now() + timeout;
  char buf[8192];
  bool timed_out = false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pfd = {fds[0], POLLIN, 0};
    int pr = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) {
      timed_out = true;
      break;
    }
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (result.output.size() < max_output) {
      result.output.append(buf,
                           std::min(static_cast<size_t>(n), max_output - result.output.size()));
    }
  }
  ::close(fds[0]);
  if (timed_out) {
    (void)StopProcess(pid, SIGKILL, std::chrono::seconds(5), true);
    return DeadlineExceeded("command timed out after " + std::to_string(timeout.count()) +
                            " ms: " + argv[0]);
  }
  auto status = WaitForExit(pid, std::chrono::seconds(10));
  if (!status.ok()) return status.status();
  result.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  return result;
}

}  // namespace auri
