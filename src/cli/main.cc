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
      "  auri up                      start PostgreSQL, Redis, api-gateway, event-processor\n"
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
  auto* processor = app.add_subcommand("event-processor",
                                       "Evaluate queued events against the triggers (foreground)");

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

  VerifyCommandOptions verify_command_options;
  auto* verify = app.add_subcommand(
      "verify", "Run the verification checklist against the deployment (exit 1 if any fails)");
  verify->add_option("--url", verify_command_options.url, "Gateway base URL (default: configured)");
  verify->add_option("--manifest", verify_command_options.manifest,
                     "Compare the configuration with this manifest file");
  verify->add_flag("--json", json, "One JSON document instead of the table");

  DrillCommandOptions drill_options;
  auto* drill = app.add_subcommand(
      "drill",
      "Run a DR drill on a throwaway deployment (snapshot-restore | pitr), or `drill report`");
  drill->add_option("name", drill_options.name, "snapshot-restore | pitr | report")->required();
  drill->add_flag("--keep", drill_options.keep, "Leave the drill's deployment running afterwards");
  drill->add_flag("--target-running", drill_options.target_running,
                  "Drill the running deployment instead (refused where unsafe)");
  drill->add_option("--users", drill_options.users, "Seed: users, one organization each (3)");
  drill->add_option("--events", drill_options.events, "Seed: events ingested (500)");
  drill->add_option("--ballast-mb", drill_options.ballast_mb,
                    "Extra bulk data in MiB, to measure restore speed at size (0)");
  drill->add_option("--write", drill_options.write_dir,
                    "report: write one Markdown file per drill into DIR");
  drill->add_flag("--json", json, "One JSON document instead of progress lines and a verdict");

  auto* dev = app.add_subcommand("dev", "Helpers for trying Auri by hand");
  dev->require_subcommand(1);
  int receiver_port = 9000;
  auto* dev_receiver = dev->add_subcommand(
      "webhook-receiver", "Print every webhook delivered to 127.0.0.1:PORT (answers 200)");
  dev_receiver->add_option("--port", receiver_port, "Port to listen on (default 9000)");

  ManifestOptions manifest_options;
  auto* manifest = app.add_subcommand("manifest", "Counts and checksums of the configuration");
  manifest->require_subcommand(1);
  auto* manifest_create =
      manifest->add_subcommand("create", "Compute the manifest (users … actions) as JSON");
  manifest_create->add_option("--out", manifest_options.out, "Write to FILE instead of stdout");
  manifest_create->add_option("--dsn", manifest_options.dsn, "Database (default: configured)");

  // Disaster recovery (spec 40-dr.md): backups, restore/PITR, integrity checks.
  auto* backup =
      app.add_subcommand("backup", "Backups with pgBackRest: create, list, verify, expire");
  backup->require_subcommand(1);
  BackupCreateOptions backup_create_options;
  auto* backup_create = backup->add_subcommand("create", "Take a backup into every repository");
  backup_create->add_option("--type", backup_create_options.type,
                            "full | diff | incr (default full)");
  backup_create->add_option("--label", backup_create_options.label,
                            "Label stored with the backup, e.g. pre-migration");
  backup_create->add_option("--repo", backup_create_options.repo,
                            "Only this repository (1 or 2; default every one)");
  backup_create->add_flag("--json", json, "Print JSON");
  auto* backup_list = backup->add_subcommand("list", "List backups and the restorable window");
  backup_list->add_flag("--json", json, "Print JSON");
  auto* backup_expire = backup->add_subcommand("expire", "Apply the retention policy now");
  backup_expire->add_flag("--json", json, "Print JSON");
  BackupVerifyOptions verify_options;
  bool verify_latest = false;
  auto* backup_verify = backup->add_subcommand(
      "verify", "Restore a backup into a scratch instance, check it, record the verdict");
  backup_verify->add_option("id", verify_options.id, "Backup id (default: the newest)");
  backup_verify->add_flag("--latest", verify_latest, "The newest backup of each repository");
  backup_verify->add_option("--repo", verify_options.repo, "Only this repository");
  backup_verify->add_flag("--json", json, "Print JSON");
  RestoreCliOptions restore_options;
  auto* restore = app.add_subcommand(
      "restore", "Restore into a new instance (latest, a backup, or a point in time) and check it");
  restore->add_option("--as", restore_options.name,
                      "Name of the new instance (required unless --in-place)");
  restore->add_option("--backup", restore_options.backup_id, "Restore this backup (its end state)");
  restore->add_option("--time", restore_options.time,
                      "Point in time, RFC 3339 (2025-12-28T10:00:00Z)");
  restore->add_flag("--latest", restore_options.latest, "Everything archived (the default)");
  restore->add_option("--port", restore_options.port, "Port of the new instance (default: free)");
  restore->add_option("--repo", restore_options.repo, "Restore from this repository only");
  restore->add_flag("--in-place", restore_options.in_place,
                    "Overwrite the deployment's own data directory (refused without --force)");
  restore->add_flag("--force", restore_options.force,
                    "Allow --in-place: stops the stack's PostgreSQL (services answer 503 "
                    "meanwhile) and keeps the old data directory aside");
  restore->add_flag("--switch", restore_options.switch_services,
                    "Then point the running services at the restored instance (database-url "
                    "secret), make it the stack's database, and run `auri verify`");
  restore->add_flag("--json", json, "Print JSON");
  auto* dr_cmd = app.add_subcommand("dr", "Disaster-recovery checks");
  dr_cmd->require_subcommand(1);
  std::string check_dsn;
  auto* dr_check = dr_cmd->add_subcommand(
      "check", "Integrity checks: amcheck, constraints, row counts, schema, invariants");
  dr_check->add_option("--dsn", check_dsn, "Database to check (default: the deployment's)");
  dr_check->add_flag("--json", json, "Print JSON");
  auto* dr_status = dr_cmd->add_subcommand(
      "status",
      "Backup age, last verification, WAL archive lag per repository, restorable window, "
      "predicted RTO");
  dr_status->add_flag("--json", json, "Print JSON");
  auto* dr_agent = app.add_subcommand(
      "dr-agent",
      "Run the dr-agent role: scheduled backups, their verification, retention, DR metrics "
      "(started by `auri up`)");
  auto* instance = app.add_subcommand("instance", "Restored instances");
  instance->require_subcommand(1);
  std::string instance_name;
  auto* instance_remove = instance->add_subcommand("remove", "Stop and delete a restored instance");
  instance_remove->add_option("name", instance_name, "Instance name")->required();
  auto* instance_switch = instance->add_subcommand(
      "switch",
      "Make a restored instance the running stack's database (also finishes an interrupted "
      "`auri restore --switch`)");
  instance_switch->add_option("name", instance_name, "Instance name")->required();
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
  if (processor->parsed()) component = "event-processor";
  if (dr_agent->parsed()) component = "dr-agent";
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config->log.level, &level);
  // Interactive commands keep stderr for warnings only; long-running roles log at the set level.
  if (!gateway->parsed() && !supervise->parsed() && !processor->parsed() &&
      !action_workers->parsed() && !dr_agent->parsed() && level < LogLevel::kWarn)
    level = LogLevel::kWarn;
  Logger log(2, component, level);

  CliContext ctx{*config, log, {}, SelfExecutable(), json, sources};
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
  if (processor->parsed()) return RunEventProcessor(ctx);
  if (ingest->parsed()) return RunIngest(ctx, ingest_options);
  if (manifest_create->parsed()) return RunManifestCreate(ctx, manifest_options);
  if (verify->parsed()) return RunVerify(ctx, verify_command_options);
  if (drill->parsed()) return RunDrillCommand(ctx, drill_options);
  if (dev_receiver->parsed()) return RunDevWebhookReceiver(ctx, receiver_port);
  if (backup_create->parsed()) return RunBackupCreate(ctx, backup_create_options);
  if (backup_list->parsed()) return RunBackupList(ctx);
  if (backup_expire->parsed()) return RunBackupExpire(ctx);
  if (backup_verify->parsed()) {
    if (verify_latest && !verify_options.id.empty()) {
      return ReportFailure(InvalidArgument("give a backup id or --latest, not both"));
    }
    return RunBackupVerify(ctx, verify_options);
  }
  if (restore->parsed()) return RunRestore(ctx, restore_options);
  if (dr_check->parsed()) return RunDrCheck(ctx, check_dsn);
  if (dr_status->parsed()) return RunDrStatus(ctx);
  if (dr_agent->parsed()) return RunDrAgent(ctx);
  if (instance_remove->parsed()) return RunInstanceRemove(ctx, instance_name);
  if (instance_switch->parsed()) return RunInstanceSwitch(ctx, instance_name);
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
