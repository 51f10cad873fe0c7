#include "dr/drill/drill_deployment.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/fs.h"
#include "stack/stack_state.h"

namespace auri::dr {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The last `n` lines of `text` (command output in error messages).
std::string Tail(const std::string& text, int n) {
  size_t pos = text.size();
  for (int i = 0; i <= n && pos != std::string::npos && pos > 0; ++i) {
    pos = text.rfind('\n', pos - 1);
  }
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

// `count` distinct loopback ports that were free a moment ago. Every socket stays bound until all
// are picked, so the kernel cannot hand out the same port twice.
Result<std::vector<int>> PickFreePorts(int count) {
  std::vector<int> fds, ports;
  Status failed = Status::Ok();
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      failed = Unavailable("socket() failed while picking free ports");
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      failed = Unavailable("cannot pick a free loopback port");
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!failed.ok()) return failed;
  return ports;
}

}  // namespace

std::string LastJsonDocument(const std::string& output) {
  // Documents are printed pretty (dump(2)): the last one starts at a line that is exactly "{"
  // and runs to the end.
  size_t start = output.rfind("\n{\n");
  start = start == std::string::npos ? (output.rfind("{\n", 0) == 0 ? 0 : std::string::npos)
                                     : start + 1;
  if (start == std::string::npos) return "";
  return output.substr(start);
}

DrillDeployment DrillDeployment::AttachRunning(const DrillDeploymentOptions& options,
                                               std::string home, std::string api_url,
                                               std::string admin_dsn, std::string dsn) {
  DrillDeployment d;
  d.o_ = options;
  d.home_ = std::move(home);
  d.running_api_url_ = std::move(api_url);
  d.running_admin_dsn_ = std::move(admin_dsn);
  d.running_dsn_ = std::move(dsn);
  return d;
}

Result<DrillDeployment> DrillDeployment::CreateThrowaway(const DrillDeploymentOptions& options) {
  DrillDeployment d;
  d.o_ = options;
  std::string tmpl = options.tmp_parent + "/auri-drill-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return ErrnoStatus("mkdtemp", tmpl);
  d.home_ = buf.data();
  if (::chmod(d.home_.c_str(), 0755) != 0) return ErrnoStatus("chmod", d.home_);
  ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(6));
  d.api_port_ = ports[0];
  d.postgres_port_ = ports[1];
  d.redis_port_ = ports[2];
  d.processor_port_ = ports[3];
  d.workers_port_ = ports[4];
  d.dr_agent_port_ = ports[5];
  return d;
}

std::string DrillDeployment::AdminDsn() const {
  if (!throwaway()) return running_admin_dsn_;
  return "host=127.0.0.1 port=" + std::to_string(postgres_port_) + " user=" + o_.superuser +
         " dbname=postgres connect_timeout=3";
}

std::string DrillDeployment::Dsn() const {
  if (!throwaway()) return running_dsn_;
  return "host=127.0.0.1 port=" + std::to_string(postgres_port_) + " user=" + o_.superuser +
         " dbname=" + o_.database + " connect_timeout=3";
}

std::vector<std::string> DrillDeployment::Overrides() const {
  if (!throwaway()) return {};
  std::vector<std::string> sets = {
      "general.home=" + home_,
      "api.port=" + std::to_string(api_port_),
      "postgres.port=" + std::to_string(postgres_port_),
      "redis.port=" + std::to_string(redis_port_),
      "processor.metrics_port=" + std::to_string(processor_port_),
      "delivery.metrics_port=" + std::to_string(workers_port_),
      "dr_agent.metrics_port=" + std::to_string(dr_agent_port_),
      "postgres.dsn=" + database_dsn_,
      "redis.url=",
      "backup.enabled=1",
      "backup.repo1_path=" + RepoPath(),
      // One repository: the drill's disaster is the primary, not the repository; a second one
      // would double every backup's fixed cost.
      "backup.repo2_path=none",
      "secrets.master_key_file=" + home_ + "/master.key",
  };
  if (!database_dsn_.empty()) {
    // With postgres.dsn set, "auto" forbids loopback webhook destinations (a shared database
    // hints at a shared host). This deployment is still all-loopback and `auri verify`'s probe
    // receiver listens on 127.0.0.1, so allow them explicitly.
    sets.push_back("delivery.allow_private_destinations=true");
  }
  std::vector<std::string> args;
  for (auto& s : sets) {
    args.push_back("--set");
    args.push_back(std::move(s));
  }
  return args;
}

Result<CommandResult> DrillDeployment::Auri(const std::vector<std::string>& args,
                                            milliseconds timeout) const {
  std::vector<std::string> argv = {o_.auri_exe};
  argv.insert(argv.end(), o_.config_args.begin(), o_.config_args.end());
  for (auto& a : Overrides()) argv.push_back(std::move(a));
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, "", timeout);
}

Result<CommandResult> DrillDeployment::AuriOk(const std::vector<std::string>& args,
                                              milliseconds timeout) const {
  ASSIGN_OR_RETURN(CommandResult r, Auri(args, timeout));
  if (r.exit_code != 0) {
    std::string what = "auri";
    for (const auto& a : args) what += " " + a;
    return Unavailable(
        "`" + what + "` exited with " + std::to_string(r.exit_code) + ":\n" + Tail(r.output, 12),
        "the drill's deployment is in " + home_ + " (logs under log/)");
  }
  return r;
}

Status DrillDeployment::WriteWrapper() const {
  std::vector<std::string> argv = {o_.auri_exe};
  argv.insert(argv.end(), o_.config_args.begin(), o_.config_args.end());
  for (auto& a : Overrides()) argv.push_back(std::move(a));
  std::string script =
      "#!/bin/sh\n# auri with the settings of the drill deployment in this directory\nexec";
  for (const auto& a : argv) {
    std::string quoted;
    for (char c : a) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    script += " '" + quoted + "'";
  }
  script += " \"$@\"\n";
  return WriteFileAtomically(home_ + "/auri", script, 0755);
}

Status DrillDeployment::Up() const {
  if (!throwaway()) return FailedPrecondition("a drill never starts the running deployment");
  return AuriOk({"up"}, seconds(180)).status();
}

Status DrillDeployment::Down() const {
  if (!throwaway()) return FailedPrecondition("a drill never stops the running deployment");
  return AuriOk({"down"}, seconds(180)).status();
}

Result<std::string> DrillDeployment::IngestToken() const {
  ASSIGN_OR_RETURN(CommandResult r,
                   AuriOk({"secrets", "show", "ingest-token", "--reveal", "--json"}, seconds(30)));
  nlohmann::json doc = nlohmann::json::parse(LastJsonDocument(r.output), nullptr, false);
  if (!doc.is_object() || !doc.contains("value") || !doc["value"].is_string()) {
    return Internal("`auri secrets show ingest-token --json` printed no value");
  }
  return doc["value"].get<std::string>();
}

Result<pid_t> DrillDeployment::ComponentPid(const std::string& name) const {
  ASSIGN_OR_RETURN(StackState state, ReadStackState(home_ + "/run/stack.json"));
  for (const auto& c : state.components) {
    if (c.name == name && c.pid > 0) return c.pid;
  }
  return NotFound("no running component '" + name + "' in " + home_ + "/run/stack.json");
}

Status DrillDeployment::Remove() const {
  if (!throwaway()) return Status::Ok();
  Status first = Status::Ok();
  auto keep = [&](Status s) {
    if (first.ok() && !s.ok()) first = s;
  };
  if (PathExists(home_ + "/run/stack.json")) keep(Down());
  const std::string instances = home_ + "/instances";
  if (DIR* dir = ::opendir(instances.c_str())) {
    std::vector<std::string> names;
    while (dirent* e = ::readdir(dir)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(dir);
    for (const auto& n : names) {
      // Throwaway data: an immediate shutdown (SIGQUIT) skips the shutdown checkpoint that a
      // fast one (what `auri instance remove` does) writes, seconds under load.
      auto pid_file = ReadFileLimited(instances + "/" + n + "/data/postmaster.pid", 4096);
      pid_t pid = pid_file.ok() ? static_cast<pid_t>(std::atol(pid_file->c_str())) : 0;
      if (pid > 0 && ::kill(pid, SIGQUIT) == 0) (void)WaitUntilGone(pid, seconds(30));
      keep(AuriOk({"instance", "remove", n}, seconds(90)).status());
    }
  }
  auto rm = RunCommand({"/bin/rm", "-rf", "--", home_}, "", seconds(120));
  if (!rm.ok()) {
    keep(rm.status());
  } else if (rm->exit_code != 0) {
    keep(Unavailable("cannot remove " + home_ + ": " + rm->output));
  }
  return first;
}

}  // namespace auri::dr
