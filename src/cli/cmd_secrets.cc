// `auri secrets list|show`, and PrepareSecrets (used by `auri up`). Values are printed only with
// an explicit --reveal.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "cli/database_url.h"
#include "cli/exit_codes.h"
#include "common/fs.h"
#include "secrets/master_key.h"
#include "secrets/secret_store.h"

namespace auri {
namespace {

Result<SecretStore> OpenStore(const Config& config, bool create) {
  const char* env = std::getenv("AURI_MASTER_KEY");
  ASSIGN_OR_RETURN(MasterKey key,
                   LoadOrCreateMasterKey(env ? env : "", config.MasterKeyFile(), create));
  return SecretStore::Open(config.SecretsDir(), std::move(key));
}

std::string FormatTime(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string LabelsText(const std::vector<Label>& labels) {
  std::string out;
  for (Label l : labels) {
    if (!out.empty()) out += ",";
    out += LabelName(l);
  }
  return out.empty() ? "-" : out;
}

nlohmann::json VersionJson(const VersionInfo& v) {
  nlohmann::json labels = nlohmann::json::array();
  for (Label l : v.labels) labels.push_back(std::string(LabelName(l)));
  nlohmann::json j = {{"version", v.version},
                      {"created_at", FormatTime(v.created_at_ms)},
                      {"key_id", v.key_id},
                      {"labels", labels}};
  if (v.not_after_ms) j["not_after"] = FormatTime(*v.not_after_ms);
  return j;
}

}  // namespace

Result<SecretStore> OpenSecretStore(const Config& config) {
  return OpenStore(config, /*create=*/false);
}

Status PrepareSecrets(const Config& config) {
  RETURN_IF_ERROR(MakeDirectories(config.home, 0755));
  ASSIGN_OR_RETURN(SecretStore store, OpenStore(config, /*create=*/true));
  RETURN_IF_ERROR(store.EnsureInitialSecrets());
  // `database-url` exists once `auri restore --switch` wrote it; the services prefer it to the
  // configuration. Keep it equal to the configuration (which includes the switched instance, see
  // config/active_database.h), so a changed postgres setting is not shadowed by an old secret.
  auto url = store.Get(kDatabaseUrlSecret);
  if (url.ok() && url->value.reveal() != config.DatabaseDsn()) {
    ASSIGN_OR_RETURN(int version, store.Put(kDatabaseUrlSecret, SecretValue(config.DatabaseDsn())));
    (void)version;
  }
  return Status::Ok();
}

int RunSecretsList(const CliContext& ctx) {
  auto store = OpenStore(ctx.config, /*create=*/false);
  if (!store.ok()) return ReportFailure(store.status());
  auto list = store->List();
  if (!list.ok()) return ReportFailure(list.status());
  if (ctx.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : *list) {
      nlohmann::json versions = nlohmann::json::array();
      for (const auto& v : s.versions) versions.push_back(VersionJson(v));
      out.push_back({{"name", s.name}, {"versions", versions}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-26s %-8s %-22s %-14s %s\n", "NAME", "VERSION", "CREATED", "KEY ID", "LABELS");
  for (const auto& s : *list) {
    for (const auto& v : s.versions) {
      std::printf("%-26s %-8d %-22s %-14s %s\n", s.name.c_str(), v.version,
                  FormatTime(v.created_at_ms).c_str(), v.key_id.empty() ? "-" : v.key_id.c_str(),
                  LabelsText(v.labels).c_str());
    }
  }
  return kExitOk;
}

int RunSecretsShow(const CliContext& ctx, const std::string& name, bool reveal) {
  auto store = OpenStore(ctx.config, /*create=*/false);
  if (!store.ok()) return ReportFailure(store.status());
  auto secret = store->Get(name, Label::kCurrent);
  if (!secret.ok()) {
    Status s = secret.status();
    if (s.code() == StatusCode::kNotFound && s.hint().empty()) {
      s = s.WithHint("`auri secrets list` shows the secrets that exist");
    }
    return ReportFailure(s);
  }
  if (ctx.json) {
    nlohmann::json j = VersionJson(secret->info);
    j["name"] = secret->name;
    if (reveal) j["value"] = secret->value.reveal();
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("name:     %s\nversion:  %d (%s)\ncreated:  %s\nkey id:   %s\n", secret->name.c_str(),
              secret->info.version, LabelsText(secret->info.labels).c_str(),
              FormatTime(secret->info.created_at_ms).c_str(),
              secret->info.key_id.empty() ? "-" : secret->info.key_id.c_str());
  if (reveal) {
    std::printf("value:    %s\n", secret->value.reveal().c_str());
  } else {
    std::printf("value:    (%zu bytes; add --reveal to print it)\n", secret->value.size());
  }
  return kExitOk;
}

}  // namespace auri
