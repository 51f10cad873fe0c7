#pragma once
// The migration files compiled into the binary. The definitions are generated at build time by
// embed_migrations.cmake from migrations/*.sql; use EmbeddedMigrations() (migrations.h) instead.
#include <cstddef>

namespace auri::store_internal {

struct EmbeddedMigrationFile {
  int version;                 // from the NNNN prefix
  const char* name;            // file name without ".sql"
  const unsigned char* bytes;  // the file's exact content
  size_t size;
};

// Ascending by version; kEmbeddedMigrationFileCount entries (the array is never empty in C++
// terms, so a build without migrations has one unused placeholder).
extern const EmbeddedMigrationFile kEmbeddedMigrationFiles[];
extern const size_t kEmbeddedMigrationFileCount;

}  // namespace auri::store_internal
