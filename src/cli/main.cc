// The `auri` binary: parses the command line, loads the Config once, builds the logger, and hands
// both to the subcommand. This is the only place objects are wired together.
#include <limits.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/context.h"
#include "cli/exit_codes.h"
#include "common/version.h"

namespace {

std::string SelfExecutable() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "auri";
  buf[n] = '\0';
  return buf;
}

std::string Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[PATH_MAX];
  return ::getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" + path : path;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace auri;
  CLI::App app{"auri — ERC-8004 event triggers and actions that cannot lose data"};
  app.set_version_flag("--version", std::string("auri ") + kVersion);
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  auri up                      start PostgreSQL, Redis and the api-gateway under ./var\n"
      "  auri status --json           each component's pid, port and health\n"
      "  auri down                    stop everything (data is kept)\n"
      "Exit codes: 0 ok, 1 check failed, 2 usage/config error, 3 dependency unavailable,\n"
      "            4 refused for safety, 5 internal error.");

  std::string config_file;
  std::vector<std::string> overrides;
  bool json = false;
  app.add_option("-c,--config", config_file, "Config file (default: ./auri.toml when it exists)");
  app.add_option("--set", overrides, "Override one option: section.key=value (repeatable)");

  UpOptions up_options;
  auto* up = app.add_subcommand("up", "Start the local stack and wait until it is healthy");
  up->add_flag("--foreground", up_options.foreground, "Supervise in this process (do not detach)");
  auto* supervise = app.add_subcommand("supervise", "Run the supervisor (used by `auri up`)");
  supervise->group("");  // internal
  auto* down = app.add_subcommand("down", "Stop the local stack (data is kept)");
  auto* status = app.add_subcommand("status", "Show each component: pid, port, health");
  status->add_flag("--json", json, "Print JSON");
  auto* migrate = app.add_subcommand("migrate", "Apply database migrations");
  migrate->add_flag("--json", json, "Print JSON");
  auto* gateway = app.add_subcommand("api-gateway", "Run the HTTP API server (foreground)");

  auto* action_workers = app.add_subcommand(
      "action-workers", "Deliver action jobs: webhooks and Telegram messages (foreground)");

  JobsOptions jobs_options;
  auto* jobs = app.add_subcommand("jobs", "Inspect and replay dead letters");
  jobs->require_subcommand(1);
  auto* jobs_dead = jobs->add_subcommand("dead-letters", "List dead jobs, newest first");
  jobs_dead->add_option("--trigger", jobs_options.trigger, "Only this trigger's jobs");
  jobs_dead->add_option("--limit", jobs_options.limit, "Most jobs listed (default 100)");
  jobs_dead->add_flag("--json", json, "Print JSON");
  auto* jobs_replay = jobs->add_subcommand("replay", "Make dead jobs pending again");
  jobs_replay->add_option("id", jobs_options.job_id, "Job id");
  jobs_replay->add_option("--all-for-trigger", jobs_options.trigger,
                          "Replay every dead job of this trigger");
  jobs_replay->add_flag("--json", json, "Print JSON");

  IngestOptions ingest_options;
  auto* ingest = app.add_subcommand("ingest", "Send a JSON-lines file of events to the gateway");
  ingest->add_option("file", ingest_options.file, "File with one event object per line")
      ->required();
  ingest->add_option("--batch", ingest_options.batch, "Events per request (1..1000, default 500)");
  ingest->add_option("--url", ingest_options.url,
                     "Gateway base URL (default: the configured api address)");
  ingest->add_flag("--json", json, "Print the summary as JSON");

  auto* secrets = app.add_subcommand("secrets", "Inspect the versioned secret store");
  secrets->require_subcommand(1);
  auto* secrets_list = secrets->add_subcommand("list", "List secrets, versions and labels");
  secrets_list->add_flag("--json", json, "Print JSON");
  std::string secret_name;
  bool reveal = false;
  auto* secrets_show = secrets->add_subcommand("show", "Show one secret's current version");
  secrets_show->add_option("name", secret_name, "Secret name, e.g. ingest-token")->required();
  secrets_show->add_flag("--reveal", reveal, "Print the value itself");
  secrets_show->add_flag("--json", json, "Print JSON");

  auto* config_cmd = app.add_subcommand("config", "Show the configuration");
  config_cmd->require_subcommand(1);
  auto* config_show = config_cmd->add_subcommand("show", "Print the effective configuration");
  auto* config_reference =
      config_cmd->add_subcommand("reference", "Print the option reference (Markdown)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  if (config_reference->parsed()) {
    std::fputs(RenderConfigReference().c_str(), stdout);
    return kExitOk;
  }

  ConfigSources sources;
  if (!config_file.empty()) {
    sources.file = Absolute(config_file);
    sources.file_must_exist = true;
  } else {
    sources.file = Absolute("auri.toml");
  }
  sources.env = AuriEnvironment();
  sources.overrides = overrides;
  auto config = LoadConfig(sources);
  if (!config.ok()) return ReportFailure(config.status());

  std::string component = "cli";
  if (gateway->parsed()) component = "api-gateway";
  if (action_workers->parsed()) component = "action-workers";
  if (supervise->parsed()) component = "supervisor";
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config->log.level, &level);
  // Interactive commands keep stderr for warnings only; long-running roles log at the set level.
  if (!gateway->parsed() && !supervise->parsed() && !action_workers->parsed() &&
      level < LogLevel::kWarn)
    level = LogLevel::kWarn;
  Logger log(2, component, level);

  CliContext ctx{*config, log, {}, SelfExecutable(), json};
  if (access(sources.file.c_str(), F_OK) == 0) {
    ctx.config_args = {"--config", sources.file};
  }
  for (const auto& o : overrides) {
    ctx.config_args.push_back("--set");
    ctx.config_args.push_back(o);
  }

  if (up->parsed()) return RunUp(ctx, up_options);
  if (supervise->parsed()) return RunSupervise(ctx);
  if (down->parsed()) return RunDown(ctx);
  if (status->parsed()) return RunStatus(ctx);
  if (migrate->parsed()) return RunMigrate(ctx);
  if (gateway->parsed()) return RunApiGateway(ctx);
  if (ingest->parsed()) return RunIngest(ctx, ingest_options);
  if (action_workers->parsed()) return RunActionWorkers(ctx);
  if (jobs_dead->parsed()) return RunJobsDeadLetters(ctx, jobs_options);
  if (jobs_replay->parsed()) return RunJobsReplay(ctx, jobs_options);
  if (secrets_list->parsed()) return RunSecretsList(ctx);
  if (secrets_show->parsed()) return RunSecretsShow(ctx, secret_name, reveal);
  if (config_show->parsed()) {
    std::fputs(RenderConfigToml(*config).c_str(), stdout);
    return kExitOk;
  }
  return kExitUsage;
}
