#pragma once
// File-system helpers with the durability rules Auri relies on.
#include <sys/types.h>

#include <cstddef>
#include <string>

#include "common/result.h"

namespace auri {

// Writes `data` to `path` so that after a crash the file holds either its old content or the new
// one, never a mix: temp file in the same directory → fsync → rename → fsync(directory).
// The file gets permission `mode`. Returns kUnavailable (with the path and errno text) on I/O
// errors.
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode = 0600);

// Reads a whole file. Fails with kNotFound when it does not exist and kResourceExhausted when it is
// larger than `max_bytes` (every input has a size limit).
Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes);

// mkdir -p with `mode` for the directories it creates; existing directories are left as they are.
Status MakeDirectories(const std::string& path, mode_t mode = 0755);

// True when `path` exists (any type).
bool PathExists(const std::string& path);

// "<what> <path>: <strerror(errno)>" as kUnavailable; for callers reporting a failed syscall.
Status ErrnoStatus(std::string_view what, const std::string& path);

}  // namespace auri
