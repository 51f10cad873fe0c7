#pragma once
// The master key: the one key, held outside the secret store, that encrypts every secret in it.
//
// It comes from AURI_MASTER_KEY (base64 of 32 bytes) or from a key file of mode 0600 holding the
// same. Whoever holds it can read every secret, so it is never logged, never copied implicitly and
// wiped from memory when destroyed.
#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace auri {

class MasterKey {
 public:
  static constexpr size_t kSize = 32;  // bytes; the libsodium secretbox key size

  // A key made of exactly `bytes` (copied). Fails with kInvalidArgument if the size is not kSize.
  static Result<MasterKey> FromBytes(std::string_view bytes);
  // A new key of kSize bytes from the kernel's CSPRNG.
  static MasterKey Generate();

  // Move-only, so a key exists in as few places as possible. A moved-from key is all zeros.
  MasterKey(MasterKey&& other) noexcept;
  MasterKey& operator=(MasterKey&& other) noexcept;
  MasterKey(const MasterKey&) = delete;
  MasterKey& operator=(const MasterKey&) = delete;
  // Wipes the key bytes (sodium_memzero, which the compiler may not optimise away).
  ~MasterKey();

  // The kSize key bytes, valid while this object lives. For the secretbox calls only.
  const unsigned char* data() const { return bytes_; }
  static constexpr size_t size() { return kSize; }

  // Constant-time comparison (sodium_memcmp), so comparing keys leaks no timing.
  bool SameKeyAs(const MasterKey& other) const;

 private:
  MasterKey() = default;
  unsigned char bytes_[kSize] = {};
};

// Loads the master key, in this order:
//   1. `env_value` (the value of AURI_MASTER_KEY) when it is not empty: base64 of exactly 32 bytes,
//      surrounding whitespace ignored; the key file is then not consulted at all;
//   2. `key_file` when it exists: a regular file of mode 0600 (no group/other bits) holding base64
//      of exactly 32 bytes;
//   3. when `create_if_missing`, a new random key written to `key_file` with mode 0600. The file is
//      created durably (temp, fsync, link, fsync dir) and never replaces an existing file, so two
//      processes racing to create it both end up with the same key. Missing parent directories are
//      created with mode 0755 (the home directory is shared with servers running as other users).
// Errors: kInvalidArgument when AURI_MASTER_KEY is malformed; kFailedPrecondition when the key file
// is readable by group/others (hint: chmod 600 FILE), is not a regular file or does not hold a
// 32-byte base64 key; kNotFound when there is no key and `create_if_missing` is false;
// kUnavailable on I/O errors. Messages name the file but never contain key material.
Result<MasterKey> LoadOrCreateMasterKey(const std::string& env_value, const std::string& key_file,
                                        bool create_if_missing);

}  // namespace auri
