#include "secrets/sync_directory.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/fs.h"

namespace auri::secrets_internal {

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open directory", dir);
  int rc = ::fsync(fd);
  Status s = rc == 0 ? Status::Ok() : ErrnoStatus("cannot fsync directory", dir);
  ::close(fd);
  return s;
}

}  // namespace auri::secrets_internal
