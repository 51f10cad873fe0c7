#include "secrets/secret_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "common/fs.h"
#include "common/random.h"
#include "secrets/sync_directory.h"

namespace auri {

// ---------------------------------------------------------------------------------------------
// SecretValue

namespace {
void WipeString(std::string* s) {
  if (!s->empty()) sodium_memzero(s->data(), s->size());
  s->clear();
}
}  // namespace

SecretValue& SecretValue::operator=(const SecretValue& other) {
  if (this != &other) {
    WipeString(&bytes_);
    bytes_ = other.bytes_;
  }
  return *this;
}

namespace {
// Moves `from` into `to` without leaving the bytes behind in `from`. A short string is copied, not
// stolen (small-string optimisation), so its bytes would stay in `from`'s inline buffer; growing
// `from` back within its capacity (no allocation) and wiping overwrites them.
void MoveAndWipe(std::string* to, std::string* from) noexcept {
  size_t n = from->size();
  *to = std::move(*from);
  from->resize(std::min(n, from->capacity()));
  WipeString(from);
}
}  // namespace

SecretValue::SecretValue(SecretValue&& other) noexcept { MoveAndWipe(&bytes_, &other.bytes_); }

SecretValue& SecretValue::operator=(SecretValue&& other) noexcept {
  if (this != &other) {
    WipeString(&bytes_);
    MoveAndWipe(&bytes_, &other.bytes_);
  }
  return *this;
}

SecretValue::~SecretValue() { WipeString(&bytes_); }

void PrintTo(const SecretValue& value, std::ostream* os) {
  *os << "SecretValue(<" << value.size() << " bytes>)";
}

// ---------------------------------------------------------------------------------------------
// Labels

namespace {
constexpr Label kAllLabels[] = {Label::kCurrent, Label::kPrevious, Label::kPending};
}  // namespace

std::string_view LabelName(Label label) {
  switch (label) {
    case Label::kCurrent:
      return "current";
    case Label::kPrevious:
      return "previous";
    case Label::kPending:
      return "pending";
  }
  return "unknown";
}

bool ParseLabel(std::string_view text, Label* out) {
  for (Label l : kAllLabels) {
    if (text == LabelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Names, limits and file formats

namespace {

constexpr char kMagic[] = "AURISEC1";  // first bytes of every sealed file; the format version
constexpr size_t kMagicSize = sizeof kMagic - 1;
constexpr char kPlaintextTag[] = "auri-secret 1";  // first line inside every sealed plaintext
constexpr size_t kMaxMetaBytes = 1 << 20;
// Sealed header lines (tag, name, version, created_at, key id) are well under 1 KiB.
constexpr size_t kMaxSealedBytes = kMagicSize + crypto_secretbox_NONCEBYTES +
                                   crypto_secretbox_MACBYTES + 1024 + SecretStore::kMaxValueBytes;
constexpr int kMetaFormat = 1;

const SystemClock kSystemClock;

Status ValidateName(std::string_view name) {
  // ^[a-z0-9][a-z0-9-]{0,62}$: safe as a directory name and in messages, and leaves no way to
  // smuggle "..", "/" or a newline into a path or a sealed header.
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  bool ok = !name.empty() && name.size() <= 63 && name[0] != '-' &&
            std::all_of(name.begin(), name.end(), ok_char);
  if (ok) return Status::Ok();
  return InvalidArgument(
      "invalid secret name \"" + std::string(name.substr(0, 80)) + "\"",
      "use 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit");
}

Status ValidateKeyId(std::string_view key_id) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  };
  if (key_id.size() <= 64 && std::all_of(key_id.begin(), key_id.end(), ok_char)) {
    return Status::Ok();
  }
  return InvalidArgument("invalid key id \"" + std::string(key_id.substr(0, 80)) + "\"",
                         "use at most 64 characters of A-Z, a-z, 0-9, '-', '_' and '.'");
}

Status ValidateValue(const SecretValue& value) {
  if (value.empty()) return InvalidArgument("a secret value must not be empty");
  if (value.size() > SecretStore::kMaxValueBytes) {
    return ResourceExhausted("secret value of " + std::to_string(value.size()) +
                             " bytes is over the limit of " +
                             std::to_string(SecretStore::kMaxValueBytes) + " bytes");
  }
  return Status::Ok();
}

std::string VersionFileName(int version) { return "v" + std::to_string(version) + ".sealed"; }

std::string RestoreHint(const std::string& dir) {
  return "restore " + dir + " from a backup repository (secrets are copied there still encrypted)";
}

template <typename Int>
bool ParseInt(std::string_view text, Int* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// What a sealed file authenticates besides the value: which secret and version it is, so a file
// copied or renamed elsewhere in the store is rejected, plus the immutable per-version metadata.
struct SealedHeader {
  std::string name;
  int version = 0;
  int64_t created_at_ms = 0;
  std::string key_id;
};

std::string BuildPlaintext(const SealedHeader& h, const SecretValue& value) {
  std::string p;
  p.reserve(value.size() + 128);
  p.append(kPlaintextTag).append("\n");
  p.append(h.name).append("\n");
  p.append(std::to_string(h.version)).append("\n");
  p.append(std::to_string(h.created_at_ms)).append("\n");
  p.append(h.key_id).append("\n");
  p.append(value.reveal());
  return p;
}

// Splits a plaintext into header and value. False when it is not in the expected shape.
bool ParsePlaintext(std::string_view p, SealedHeader* h, std::string_view* value) {
  std::string_view lines[5];
  for (auto& line : lines) {
    size_t nl = p.find('\n');
    if (nl == std::string_view::npos) return false;
    line = p.substr(0, nl);
    p.remove_prefix(nl + 1);
  }
  if (lines[0] != kPlaintextTag) return false;
  h->name = std::string(lines[1]);
  h->key_id = std::string(lines[4]);
  *value = p;
  return ParseInt(lines[2], &h->version) && ParseInt(lines[3], &h->created_at_ms);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Metadata

struct SecretStore::Meta {
  std::string name;
  int next_version = 1;
  std::vector<VersionInfo> versions;  // ascending by version; `labels` left empty here
  std::map<Label, int> labels;

  const VersionInfo* Find(int version) const {
    for (const auto& v : versions) {
      if (v.version == version) return &v;
    }
    return nullptr;
  }
  VersionInfo* Find(int version) {
    return const_cast<VersionInfo*>(static_cast<const Meta*>(this)->Find(version));
  }
  // `version`'s info with its labels filled in.
  VersionInfo Labelled(const VersionInfo& v) const {
    VersionInfo out = v;
    for (Label l : kAllLabels) {
      auto it = labels.find(l);
      if (it != labels.end() && it->second == v.version) out.labels.push_back(l);
    }
    return out;
  }
};

namespace {

std::string MetaToJson(const std::string& name, int next_version,
                       const std::vector<VersionInfo>& versions,
                       const std::map<Label, int>& labels) {
  nlohmann::json j;
  j["format"] = kMetaFormat;
  j["name"] = name;
  j["next_version"] = next_version;
  nlohmann::json jl = nlohmann::json::object();
  for (const auto& [label, version] : labels) jl[std::string(LabelName(label))] = version;
  j["labels"] = jl;
  nlohmann::json jv = nlohmann::json::array();
  for (const auto& v : versions) {
    nlohmann::json e;
    e["version"] = v.version;
    e["created_at_ms"] = v.created_at_ms;
    if (!v.key_id.empty()) e["key_id"] = v.key_id;
    if (v.not_after_ms) e["not_after_ms"] = *v.not_after_ms;
    jv.push_back(e);
  }
  j["versions"] = jv;
  return j.dump(2) + "\n";
}

}  // namespace

Result<SecretStore::Meta> SecretStore::ReadMeta(std::string_view name) const {
  RETURN_IF_ERROR(ValidateName(name));
  std::string path = dir_ + "/" + std::string(name) + "/meta.json";
  Result<std::string> text = ReadFileLimited(path, kMaxMetaBytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFound("no secret named \"" + std::string(name) + "\" in " + dir_,
                      "list the secrets with `auri secrets list`");
    }
    return text.status();
  }
  auto corrupt = [&](const std::string& why) {
    return FailedPrecondition("secret metadata " + path + " is corrupt: " + why, RestoreHint(dir_));
  };
  Meta meta;
  try {
    nlohmann::json j = nlohmann::json::parse(*text);
    if (j.at("format").get<int>() != kMetaFormat) return corrupt("unknown format");
    meta.name = j.at("name").get<std::string>();
    // A metadata file copied into another secret's directory must not make it that secret.
    if (meta.name != name) return corrupt("it describes secret \"" + meta.name + "\"");
    meta.next_version = j.at("next_version").get<int>();
    int last = 0;
    for (const auto& e : j.at("versions")) {
      VersionInfo v;
      v.version = e.at("version").get<int>();
      v.created_at_ms = e.at("created_at_ms").get<int64_t>();
      if (e.contains("key_id")) v.key_id = e.at("key_id").get<std::string>();
      if (e.contains("not_after_ms")) v.not_after_ms = e.at("not_after_ms").get<int64_t>();
      if (v.version <= last || v.version >= meta.next_version) {
        return corrupt("version numbers out of order");
      }
      last = v.version;
      meta.versions.push_back(std::move(v));
    }
    for (const auto& [label_name, version] : j.at("labels").items()) {
      Label label;
      if (!ParseLabel(label_name, &label)) return corrupt("unknown label \"" + label_name + "\"");
      meta.labels[label] = version.get<int>();
      if (meta.Find(meta.labels[label]) == nullptr) {
        return corrupt("label " + label_name + " points at a missing version");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return corrupt(e.what());
  }
  return meta;
}

Status SecretStore::WriteMeta(const Meta& meta) {
  return WriteFileAtomically(dir_ + "/" + meta.name + "/meta.json",
                             MetaToJson(meta.name, meta.next_version, meta.versions, meta.labels),
                             0600);
}

// ---------------------------------------------------------------------------------------------
// Locking

// An exclusive flock(2) on <dir>/.lock, released when destroyed. flock locks belong to the open
// file description, so this excludes other processes and also other threads of this process
// (each WriteLock opens the file anew). Callers must not take a second WriteLock while holding
// one: it would wait for itself.
class SecretStore::WriteLock {
 public:
  explicit WriteLock(int fd) : fd_(fd) {}
  WriteLock(WriteLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  WriteLock& operator=(WriteLock&&) = delete;
  ~WriteLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  int fd_;
};

Result<SecretStore::WriteLock> SecretStore::LockForWrite() {
  std::string path = dir_ + "/.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot open lock file", path);
  WriteLock lock(fd);
  // Non-blocking attempts with a growing pause, so the wait has a deadline (flock itself has none).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kLockTimeoutMs);
  auto pause = std::chrono::milliseconds(1);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return ErrnoStatus("cannot lock", path);
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded("secret store " + dir_ + " stayed locked by another writer for " +
                                  std::to_string(kLockTimeoutMs / 1000) + " s",
                              "another `auri secrets` command may still be running; `fuser " +
                                  path + "` shows who holds the lock");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return lock;
}

// ---------------------------------------------------------------------------------------------
// Store

SecretStore::SecretStore(std::string dir, MasterKey key, const Clock* clock)
    : dir_(std::move(dir)), key_(std::move(key)), clock_(clock ? clock : &kSystemClock) {}

namespace {

// Creates `dir` with mode 0700 if missing (fsyncing its parent so the entry is durable), or checks
// that an existing one is a directory that group and others cannot access.
Status EnsurePrivateDirectory(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoStatus("cannot stat", dir);
    size_t slash = dir.rfind('/');
    std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
    RETURN_IF_ERROR(MakeDirectories(parent, 0755));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus("cannot create directory", dir);
    }
    // chmod because the umask may have narrowed the mode; stat again in case we lost a race.
    if (::chmod(dir.c_str(), 0700) != 0) return ErrnoStatus("cannot chmod", dir);
    RETURN_IF_ERROR(secrets_internal::SyncDirectory(parent));
    if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("cannot stat", dir);
  }
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition(dir + " exists but is not a directory");
  if ((st.st_mode & 077) != 0) {
    return FailedPrecondition("secret directory " + dir + " is accessible by group or others",
                              "chmod 700 " + dir);
  }
  return Status::Ok();
}

}  // namespace

Result<SecretStore> SecretStore::Open(const std::string& dir, MasterKey key, const Clock* clock) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  if (dir.empty()) return InvalidArgument("empty secret store directory");
  std::string clean = dir;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  RETURN_IF_ERROR(EnsurePrivateDirectory(clean));
  return SecretStore(clean, std::move(key), clock);
}

Result<SecretVersion> SecretStore::Unseal(const Meta& meta, int version) const {
  const VersionInfo* info = meta.Find(version);
  if (info == nullptr) {
    return NotFound("secret \"" + meta.name + "\" has no version " + std::to_string(version),
                    "list the versions with `auri secrets list`");
  }
  std::string path = dir_ + "/" + meta.name + "/" + VersionFileName(version);
  ASSIGN_OR_RETURN(std::string sealed, ReadFileLimited(path, kMaxSealedBytes));

  std::string what = "secret " + meta.name + " version " + std::to_string(version);
  auto undecryptable = [&]() {
    return FailedPrecondition(
        "cannot decrypt " + what + ": wrong master key or corrupted file",
        "check that AURI_MASTER_KEY or the master key file is the key this store was created "
        "with; if it is, " +
            RestoreHint(dir_));
  };
  constexpr size_t kOverhead = kMagicSize + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < kOverhead || sealed.compare(0, kMagicSize, kMagic) != 0) {
    return undecryptable();
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data() + kMagicSize);
  const auto* box = nonce + crypto_secretbox_NONCEBYTES;
  size_t box_size = sealed.size() - kMagicSize - crypto_secretbox_NONCEBYTES;
  std::string plain(box_size - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), box, box_size,
                                 nonce, key_.data()) != 0) {
    return undecryptable();
  }

  SealedHeader header;
  std::string_view value;
  bool parsed = ParsePlaintext(plain, &header, &value);
  SecretVersion out{meta.name, meta.Labelled(*info), SecretValue(std::string(value))};
  WipeString(&plain);
  if (!parsed) {
    return FailedPrecondition("sealed file of " + what + " has an unknown layout",
                              RestoreHint(dir_));
  }
  // Authenticated, but is it this secret's file? A valid file copied over another one decrypts
  // fine (same master key), so the identity inside it is what decides.
  if (header.name != meta.name || header.version != version) {
    return FailedPrecondition("file " + path + " holds secret " + header.name + " version " +
                                  std::to_string(header.version) + ", not " + what,
                              "a sealed file was copied or renamed; " + RestoreHint(dir_));
  }
  if (header.created_at_ms != info->created_at_ms || header.key_id != info->key_id) {
    return FailedPrecondition("metadata of " + what + " does not match its sealed file",
                              RestoreHint(dir_));
  }
  return out;
}

Result<SecretVersion> SecretStore::Get(std::string_view name, Label label) const {
  ASSIGN_OR_RETURN(Meta meta, ReadMeta(name));
  auto it = meta.labels.find(label);
  if (it == meta.labels.end()) {
    return NotFound(
        "secret \"" + meta.name + "\" has no " + std::string(LabelName(label)) + " version",
        "list the versions with `auri secrets list`");
  }
  return Unseal(meta, it->second);
}

Result<SecretVersion> SecretStore::GetVersion(std::string_view name, int version) const {
  ASSIGN_OR_RETURN(Meta meta, ReadMeta(name));
  return Unseal(meta, version);
}

Result<std::vector<SecretInfo>> SecretStore::List() const {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return ErrnoStatus("cannot list", dir_);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string entry = e->d_name;
    // Skips ".", "..", ".lock", ".generation" and temp files: none is a valid secret name.
    if (ValidateName(entry).ok()) names.push_back(std::move(entry));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());

  std::vector<SecretInfo> out;
  for (const auto& name : names) {
    Result<Meta> meta = ReadMeta(name);
    // A directory without metadata is a Put that crashed before its first version was recorded.
    if (!meta.ok() && meta.status().code() == StatusCode::kNotFound) continue;
    if (!meta.ok()) return meta.status();
    SecretInfo info{name, {}};
    for (const auto& v : meta->versions) info.versions.push_back(meta->Labelled(v));
    out.push_back(std::move(info));
  }
  return out;
}

Result<int> SecretStore::PutLocked(std::string_view name, const SecretValue& value,
                                   const PutOptions& options) {
  RETURN_IF_ERROR(ValidateName(name));
  RETURN_IF_ERROR(ValidateValue(value));
  RETURN_IF_ERROR(ValidateKeyId(options.key_id));

  Meta meta;
  Result<Meta> existing = ReadMeta(name);
  if (existing.ok()) {
    meta = std::move(existing).value();
  } else if (existing.status().code() == StatusCode::kNotFound) {
    meta.name = std::string(name);
  } else {
    return existing.status();
  }
  if (!options.key_id.empty()) {
    for (const auto& v : meta.versions) {
      if (v.key_id == options.key_id) {
        return AlreadyExists(
            "secret \"" + meta.name + "\" already has a version with key id " + options.key_id,
            "key ids name keys in tokens and must be unique; pick another");
      }
    }
  }

  std::string secret_dir = dir_ + "/" + meta.name;
  RETURN_IF_ERROR(EnsurePrivateDirectory(secret_dir));

  VersionInfo info;
  info.version = meta.next_version;
  info.created_at_ms = clock_->UnixMillis();
  info.key_id = options.key_id;
  info.not_after_ms = options.not_after_ms;

  // Seal: magic | nonce | secretbox(header + value). A fresh random nonce per version; with
  // XSalsa20's 192-bit nonces random choice is safe for any realistic number of versions.
  std::string plain =
      BuildPlaintext({meta.name, info.version, info.created_at_ms, info.key_id}, value);
  std::string sealed(
      kMagicSize + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  std::memcpy(sealed.data(), kMagic, kMagicSize);
  auto* nonce = reinterpret_cast<unsigned char*>(sealed.data() + kMagicSize);
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nonce,
                        key_.data());
  WipeString(&plain);

  // The version file goes first: if we crash before the metadata is written, the file is an
  // orphan that the next Put overwrites (next_version did not advance), never a dangling label.
  RETURN_IF_ERROR(
      WriteFileAtomically(secret_dir + "/" + VersionFileName(info.version), sealed, 0600));
  meta.versions.push_back(info);
  meta.next_version = info.version + 1;
  if (options.make_current) {
    auto current = meta.labels.find(Label::kCurrent);
    if (current != meta.labels.end()) {
      meta.labels[Label::kPrevious] = current->second;
    }
    meta.labels[Label::kCurrent] = info.version;
  }
  RETURN_IF_ERROR(WriteMeta(meta));
  RETURN_IF_ERROR(BumpGeneration());
  return info.version;
}

Result<int> SecretStore::Put(std::string_view name, const SecretValue& value,
                             const PutOptions& options) {
  // Validate before waiting for the lock, so bad input fails fast.
  RETURN_IF_ERROR(ValidateName(name));
  RETURN_IF_ERROR(ValidateValue(value));
  RETURN_IF_ERROR(ValidateKeyId(options.key_id));
  ASSIGN_OR_RETURN(WriteLock lock, LockForWrite());
  return PutLocked(name, value, options);
}

template <typename Mutation>
Status SecretStore::MutateMeta(std::string_view name, Mutation mutate) {
  RETURN_IF_ERROR(ValidateName(name));
  ASSIGN_OR_RETURN(WriteLock lock, LockForWrite());
  ASSIGN_OR_RETURN(Meta meta, ReadMeta(name));
  std::string before = MetaToJson(meta.name, meta.next_version, meta.versions, meta.labels);
  RETURN_IF_ERROR(mutate(&meta));
  // Unchanged metadata is not rewritten, so idempotent calls do not wake every reloader.
  if (MetaToJson(meta.name, meta.next_version, meta.versions, meta.labels) == before) {
    return Status::Ok();
  }
  RETURN_IF_ERROR(WriteMeta(meta));
  return BumpGeneration();
}

namespace {
Status NoSuchVersion(const std::string& name, int version) {
  return NotFound("secret \"" + name + "\" has no version " + std::to_string(version),
                  "list the versions with `auri secrets list`");
}
}  // namespace

Status SecretStore::SetLabel(std::string_view name, Label label, int version) {
  return MutateMeta(name, [&](Meta* meta) {
    if (meta->Find(version) == nullptr) return NoSuchVersion(meta->name, version);
    meta->labels[label] = version;
    return Status::Ok();
  });
}

Status SecretStore::Promote(std::string_view name, int version) {
  return MutateMeta(name, [&](Meta* meta) {
    if (meta->Find(version) == nullptr) return NoSuchVersion(meta->name, version);
    auto current = meta->labels.find(Label::kCurrent);
    if (current != meta->labels.end() && current->second == version) return Status::Ok();
    if (current != meta->labels.end()) meta->labels[Label::kPrevious] = current->second;
    meta->labels[Label::kCurrent] = version;
    auto pending = meta->labels.find(Label::kPending);
    if (pending != meta->labels.end() && pending->second == version) meta->labels.erase(pending);
    return Status::Ok();
  });
}

Status SecretStore::ClearLabel(std::string_view name, Label label) {
  return MutateMeta(name, [&](Meta* meta) {
    meta->labels.erase(label);
    return Status::Ok();
  });
}

Status SecretStore::SetNotAfter(std::string_view name, int version,
                                std::optional<int64_t> not_after_ms) {
  return MutateMeta(name, [&](Meta* meta) {
    VersionInfo* v = meta->Find(version);
    if (v == nullptr) return NoSuchVersion(meta->name, version);
    v->not_after_ms = not_after_ms;
    return Status::Ok();
  });
}

Status SecretStore::EnsureInitialSecrets() {
  // One lock around check-and-create, so two processes starting at once create each secret once.
  ASSIGN_OR_RETURN(WriteLock lock, LockForWrite());
  auto random_bytes = [] {
    std::string b(32, '\0');
    RandomBytes(b.data(), b.size());
    return b;
  };
  struct Initial {
    const char* name;
    const char* prefix;
    bool url_alphabet;  // base64url without padding, else standard base64 with padding
    bool with_key_id;
  };
  // whsec_ + standard base64 is the Standard Webhooks secret form receivers' libraries expect.
  const Initial initial[] = {
      {"jwt-signing-key", "", true, true},
      {"ingest-token", "ing_", true, false},
      {"webhook-signing-secret", "whsec_", false, false},
      // The pgBackRest repository cipher pass: losing it makes every encrypted backup unreadable,
      // which is why the secret store itself is copied into each repository.
      {"backup-cipher-pass", "", true, false},
  };
  for (const auto& s : initial) {
    Result<Meta> meta = ReadMeta(s.name);
    if (meta.ok()) continue;
    if (meta.status().code() != StatusCode::kNotFound) return meta.status();
    std::string raw = random_bytes();
    SecretValue value(std::string(s.prefix) +
                      (s.url_alphabet ? Base64UrlEncode(raw) : Base64Encode(raw)));
    WipeString(&raw);
    PutOptions options;
    if (s.with_key_id) options.key_id = "k-" + RandomHex(4);
    ASSIGN_OR_RETURN(int version, PutLocked(s.name, value, options));
    (void)version;
  }
  return Status::Ok();
}

Status SecretStore::BumpGeneration() {
  // A fresh random value rather than a counter: it also differs from any value a reader saw before
  // the directory was restored from a backup.
  uint64_t token = 0;
  while (token == 0) RandomBytes(&token, sizeof token);
  return WriteFileAtomically(dir_ + "/.generation", std::to_string(token) + "\n", 0600);
}

Result<uint64_t> SecretStore::Generation() const {
  std::string path = dir_ + "/.generation";
  Result<std::string> text = ReadFileLimited(path, 64);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return uint64_t{0};
    return text.status();
  }
  std::string_view t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.remove_suffix(1);
  uint64_t token = 0;
  if (!ParseInt(t, &token)) {
    return FailedPrecondition("generation file " + path + " is corrupt",
                              "remove it; the next write to the store recreates it");
  }
  return token;
}

Status SecretStore::VerifyAll() const {
  ASSIGN_OR_RETURN(std::vector<SecretInfo> secrets, List());
  for (const auto& s : secrets) {
    ASSIGN_OR_RETURN(Meta meta, ReadMeta(s.name));
    for (const auto& v : meta.versions) {
      ASSIGN_OR_RETURN(SecretVersion unsealed, Unseal(meta, v.version));
      (void)unsealed;
    }
  }
  return Status::Ok();
}

}  // namespace auri
