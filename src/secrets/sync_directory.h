#pragma once
// Internal to src/secrets. (Belongs in common/fs.h; kept here because common is not ours to edit.)
#include <string>

#include "common/status.h"

namespace auri::secrets_internal {

// fsync(2)s directory `dir`, so entries created, linked or renamed in it survive a crash.
// Returns kUnavailable with the path and errno text on failure.
Status SyncDirectory(const std::string& dir);

}  // namespace auri::secrets_internal
