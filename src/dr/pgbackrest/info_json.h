#pragma once
// Parsing of `pgbackrest info --output=json` (pgBackRest 2.45) into Auri's BackupCatalog.
#include <string>

#include "common/result.h"
#include "dr/backup_engine.h"

namespace auri::dr {

// Reads the stanza named `stanza` from the JSON array pgBackRest prints. Errors: kUnavailable when
// the text is not the expected JSON (the message quotes its start), kNotFound when the stanza is
// absent.
Result<BackupCatalog> ParseInfoJson(const std::string& text, const std::string& stanza);

}  // namespace auri::dr
