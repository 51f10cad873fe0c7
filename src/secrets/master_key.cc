#include "secrets/master_key.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/fs.h"
#include "common/random.h"
#include "secrets/sync_directory.h"

namespace auri {
namespace {

constexpr size_t kMaxKeyFileBytes = 4096;  // a base64 key is 44 bytes; anything far larger is wrong

// Zeroes a string's buffer before it is freed, for strings that held key material.
void Wipe(std::string* s) {
  if (!s->empty()) sodium_memzero(s->data(), s->size());
  s->clear();
}

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && std::strchr(" \t\r\n", s.front()) != nullptr) s.remove_prefix(1);
  while (!s.empty() && std::strchr(" \t\r\n", s.back()) != nullptr) s.remove_suffix(1);
  return s;
}

// Decodes base64 text into a key; kInvalidArgument (without detail, the caller says which input)
// when it is not base64 of exactly kSize bytes.
Result<MasterKey> DecodeKey(std::string_view text) {
  std::string bytes;
  Result<MasterKey> key = InvalidArgument("not base64 of a 32-byte key");
  if (Base64Decode(TrimWhitespace(text), &bytes) && bytes.size() == MasterKey::kSize) {
    key = MasterKey::FromBytes(bytes);
  }
  Wipe(&bytes);
  return key;
}

std::string ParentDir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<MasterKey> ReadKeyFile(const std::string& key_file, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) {
    return FailedPrecondition(
        "master key file " + key_file + " is not a regular file",
        "point secrets.master_key_file at the key file, or set AURI_MASTER_KEY");
  }
  // Refuse rather than silently tighten: a key that others could read may already be compromised,
  // and the operator should know.
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPrecondition(
        "master key file " + key_file + " has mode " + mode +
            "; it must be readable by its owner only (0600)",
        "chmod 600 " + key_file + " (and rotate the secrets if others may have read it)");
  }
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(key_file, kMaxKeyFileBytes));
  Result<MasterKey> key = DecodeKey(text);
  Wipe(&text);
  if (!key.ok()) {
    return FailedPrecondition(
        "master key file " + key_file + " does not hold base64 of exactly 32 bytes",
        "restore the key file from your key backup; a new key cannot decrypt existing secrets");
  }
  return key;
}

// Writes a new key to `key_file` without ever replacing an existing file: the content is made
// durable under a unique temporary name and then hard-linked into place, which fails with EEXIST
// if another process created the file first. Returns the key that ended up in the file.
Result<MasterKey> CreateKeyFile(const std::string& key_file) {
  RETURN_IF_ERROR(MakeDirectories(ParentDir(key_file), 0755));
  MasterKey key = MasterKey::Generate();
  std::string text =
      Base64Encode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size())) + "\n";
  std::string tmp = key_file + ".new." + std::to_string(::getpid()) + "." + RandomHex(4);
  Status written = WriteFileAtomically(tmp, text, 0600);
  Wipe(&text);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::link(tmp.c_str(), key_file.c_str()) != 0) {
    int link_errno = errno;
    ::unlink(tmp.c_str());
    if (link_errno == EEXIST) {
      // Lost the race: use the winner's key, which may already encrypt secrets.
      struct stat st;
      if (::stat(key_file.c_str(), &st) != 0) return ErrnoStatus("cannot stat", key_file);
      return ReadKeyFile(key_file, st);
    }
    errno = link_errno;
    return ErrnoStatus("cannot create master key file", key_file);
  }
  ::unlink(tmp.c_str());
  // The new directory entry must be on disk before any secret is encrypted under this key.
  RETURN_IF_ERROR(secrets_internal::SyncDirectory(ParentDir(key_file)));
  return key;
}

}  // namespace

Result<MasterKey> MasterKey::FromBytes(std::string_view bytes) {
  if (bytes.size() != kSize) {
    return InvalidArgument("a master key must be exactly " + std::to_string(kSize) +
                           " bytes, got " + std::to_string(bytes.size()));
  }
  MasterKey key;
  std::memcpy(key.bytes_, bytes.data(), kSize);
  return key;
}

MasterKey MasterKey::Generate() {
  MasterKey key;
  RandomBytes(key.bytes_, kSize);
  return key;
}

MasterKey::MasterKey(MasterKey&& other) noexcept {
  std::memcpy(bytes_, other.bytes_, kSize);
  sodium_memzero(other.bytes_, kSize);
}

MasterKey& MasterKey::operator=(MasterKey&& other) noexcept {
  if (this != &other) {
    std::memcpy(bytes_, other.bytes_, kSize);
    sodium_memzero(other.bytes_, kSize);
  }
  return *this;
}

MasterKey::~MasterKey() { sodium_memzero(bytes_, kSize); }

bool MasterKey::SameKeyAs(const MasterKey& other) const {
  return sodium_memcmp(bytes_, other.bytes_, kSize) == 0;
}

Result<MasterKey> LoadOrCreateMasterKey(const std::string& env_value, const std::string& key_file,
                                        bool create_if_missing) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");

  if (!env_value.empty()) {
    Result<MasterKey> key = DecodeKey(env_value);
    if (!key.ok()) {
      return InvalidArgument("AURI_MASTER_KEY is not base64 of exactly 32 bytes",
                             "set it to the base64 key you backed up, or generate a new one for a "
                             "new installation with: head -c 32 /dev/urandom | base64");
    }
    return key;
  }

  if (key_file.empty()) {
    return InvalidArgument("no master key: AURI_MASTER_KEY is empty and no key file is configured",
                           "set AURI_MASTER_KEY or secrets.master_key_file");
  }
  struct stat st;
  if (::stat(key_file.c_str(), &st) == 0) return ReadKeyFile(key_file, st);
  if (errno != ENOENT) return ErrnoStatus("cannot stat master key file", key_file);
  if (!create_if_missing) {
    return NotFound("no master key: AURI_MASTER_KEY is not set and " + key_file + " does not exist",
                    "set AURI_MASTER_KEY to your backed-up key, restore " + key_file +
                        " from backup, or run `auri init` to create a new installation");
  }
  return CreateKeyFile(key_file);
}

}  // namespace auri
