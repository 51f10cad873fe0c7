#pragma once
// SecretStore: versioned secrets on disk, each version encrypted under the master key.
//
// Layout of a store directory (mode 0700; every file mode 0600):
//   .lock                 flock(2) target serialising writers across processes
//   .generation           a token replaced on every write (see Generation())
//   <name>/meta.json      labels and the metadata of every version (no secret material)
//   <name>/v<N>.sealed    version N: "AURISEC1" | 24-byte nonce | crypto_secretbox_easy(plaintext)
// The sealed plaintext starts with the secret's name, version, created_at and key id, so a file
// copied or renamed to another secret or version is rejected when it is read. Every file is
// written atomically (temp, fsync, rename, fsync dir); a version file is written before the
// metadata that refers to it, so a crash never leaves a label pointing at a missing version.
//
// Thread-safety: a SecretStore is safe to use from many threads, and many processes may open the
// same directory. Writes take an exclusive flock on `.lock` (waiting at most kLockTimeoutMs);
// reads take no lock, because every file they read is replaced atomically and version files are
// never modified once written.
//
// Not authenticated: labels and not_after live in meta.json unencrypted, so someone able to write
// the directory could move a label back to an older version (they could also delete the store).
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "secrets/master_key.h"

namespace auri {

// A secret's bytes. Deliberately has no implicit conversion to std::string and no operator<<, so a
// secret cannot reach a log line or an error message by accident: reading it is an explicit,
// greppable `.reveal()`. The buffer is wiped when the object is destroyed (best effort: a string
// copied out of reveal() is the caller's to protect).
class SecretValue {
 public:
  SecretValue() = default;
  explicit SecretValue(std::string bytes) : bytes_(std::move(bytes)) {}
  SecretValue(const SecretValue& other) = default;
  SecretValue& operator=(const SecretValue& other);
  SecretValue(SecretValue&& other) noexcept;
  SecretValue& operator=(SecretValue&& other) noexcept;
  ~SecretValue();

  // The secret bytes, valid while this object lives. Never log them.
  const std::string& reveal() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

 private:
  std::string bytes_;
};

// GoogleTest prints values it cannot format as raw bytes; this prints "SecretValue(<N bytes>)".
void PrintTo(const SecretValue& value, std::ostream* os);

// Named pointers to versions of a secret. Each label names at most one version of a secret.
enum class Label { kCurrent, kPrevious, kPending };

// "current" | "previous" | "pending".
std::string_view LabelName(Label label);
// Parses a label name; false on anything else.
bool ParseLabel(std::string_view text, Label* out);

// What is known about one version without decrypting it.
struct VersionInfo {
  int version = 0;                      // 1, 2, 3 … per secret; never reused
  int64_t created_at_ms = 0;            // unix milliseconds
  std::string key_id;                   // e.g. the JWT `kid` ("k-1a2b3c4d"); empty = none
  std::optional<int64_t> not_after_ms;  // unix ms when a grace period ends; unset = no end
  std::vector<Label> labels;            // labels pointing at this version, in enum order
};

// A secret as listed: its name and versions (ascending), never a value.
struct SecretInfo {
  std::string name;
  std::vector<VersionInfo> versions;
};

// One decrypted version.
struct SecretVersion {
  std::string name;
  VersionInfo info;
  SecretValue value;
};

struct PutOptions {
  std::string key_id;                   // optional; [A-Za-z0-9._-]{1,64}, unique within the secret
  bool make_current = true;             // see SecretStore::Put
  std::optional<int64_t> not_after_ms;  // optional end of validity, unix ms
};

class SecretStore {
 public:
  static constexpr size_t kMaxValueBytes = size_t{64} * 1024;  // largest secret value accepted
  static constexpr int kLockTimeoutMs = 10000;                 // longest wait for another writer

  // Opens the store in `dir`, creating the directory (mode 0700, parents 0755) when missing. Takes
  // ownership of `key`. `clock` supplies created_at; it is not owned and must outlive the store;
  // nullptr = the system clock. Does not decrypt anything: a wrong key shows at the first read
  // (or call VerifyAll()).
  // Errors: kFailedPrecondition when `dir` exists but is not a directory or is accessible by
  // group/others (hint: chmod 700 DIR); kUnavailable on I/O errors.
  static Result<SecretStore> Open(const std::string& dir, MasterKey key,
                                  const Clock* clock = nullptr);

  SecretStore(SecretStore&&) noexcept = default;
  SecretStore& operator=(SecretStore&&) noexcept = default;

  // Every secret, sorted by name, with its versions and labels. Reads metadata only: never decrypts
  // and never returns a value. Errors: kFailedPrecondition on unreadable metadata; kUnavailable.
  Result<std::vector<SecretInfo>> List() const;

  // The version of `name` that `label` points at, decrypted.
  // Errors: kInvalidArgument for a malformed name; kNotFound when the secret does not exist or the
  // label is unset; kFailedPrecondition "cannot decrypt secret X version N: wrong master key or
  // corrupted file" when authentication fails, or when the file belongs to another secret/version.
  Result<SecretVersion> Get(std::string_view name, Label label = Label::kCurrent) const;
  // Version `version` of `name`, decrypted. Errors as Get (kNotFound for an unknown version).
  Result<SecretVersion> GetVersion(std::string_view name, int version) const;

  // Stores `value` as a new version of `name` (creating the secret if needed) and returns its
  // version number. With options.make_current the new version becomes `current` and the old
  // current becomes `previous` (the old previous loses its label; `pending` is untouched);
  // otherwise no label changes.
  // Errors: kInvalidArgument for a name not matching ^[a-z0-9][a-z0-9-]{0,62}$, an empty value, a
  // malformed key id; kResourceExhausted for a value over kMaxValueBytes; kAlreadyExists when
  // key_id is already used by a version of this secret; kDeadlineExceeded when another writer holds
  // the lock for longer than kLockTimeoutMs; kUnavailable on I/O errors.
  Result<int> Put(std::string_view name, const SecretValue& value, const PutOptions& options = {});

  // Points `label` at `version` (moving it from wherever it pointed). Only that one label changes.
  // Errors: kNotFound for an unknown secret or version; lock and I/O errors as Put.
  Status SetLabel(std::string_view name, Label label, int version);
  // Makes `version` current in one atomic step, with the same rule as Put: the old current becomes
  // previous, and `pending` is cleared if it pointed at `version`. A no-op if already current.
  Status Promote(std::string_view name, int version);
  // Removes `label` from `name`; OK if it was not set. Errors: kNotFound for an unknown secret.
  Status ClearLabel(std::string_view name, Label label);
  // Sets (or with nullopt clears) the not_after of a version. Errors as SetLabel.
  Status SetNotAfter(std::string_view name, int version, std::optional<int64_t> not_after_ms);

  // Creates the secrets a new installation needs, each only when no secret of that name exists:
  //   jwt-signing-key         base64url of 32 random bytes, key id "k-<8 hex>"
  //   ingest-token            "ing_" + base64url of 32 random bytes (47 characters)
  //   webhook-signing-secret  "whsec_" + standard base64 of 32 random bytes
  //   backup-cipher-pass      base64url of 32 random bytes (pgBackRest repository encryption)
  // Idempotent; safe to run from several processes at once (one lock around the check and create).
  Status EnsureInitialSecrets();

  // A token that changes whenever any secret, version or label changes (compare with ==; it is
  // not ordered). Reads one small file, so services can poll it every second and reload on change.
  // 0 when nothing was ever written. Errors: kUnavailable on I/O errors.
  Result<uint64_t> Generation() const;

  // Decrypts every version of every secret and returns the first failure (e.g. a wrong master key
  // or a corrupted file), for `auri verify` and start-up checks.
  Status VerifyAll() const;

  const std::string& dir() const { return dir_; }

 private:
  SecretStore(std::string dir, MasterKey key, const Clock* clock);

  struct Meta;
  class WriteLock;
  Result<Meta> ReadMeta(std::string_view name) const;
  Status WriteMeta(const Meta& meta);
  Result<SecretVersion> Unseal(const Meta& meta, int version) const;
  Result<int> PutLocked(std::string_view name, const SecretValue& value, const PutOptions& options);
  Status BumpGeneration();
  Result<WriteLock> LockForWrite();
  template <typename Mutation>
  Status MutateMeta(std::string_view name, Mutation mutate);

  std::string dir_;
  MasterKey key_;
  const Clock* clock_;
};

}  // namespace auri
