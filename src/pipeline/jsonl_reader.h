#pragma once
// Reading newline-delimited JSON event files for `auri ingest`, with bounded memory: one line is
// held at a time and no line may exceed a size limit. Also maps the field paths of a batch's
// validation errors ("events[3].score") back to the file's line numbers.
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "common/result.h"
#include "pipeline/field_error.h"

namespace auri::pipeline {

inline constexpr size_t kMaxJsonlLineBytes = size_t{1} << 20;  // 1 MiB, the API's body limit

class JsonlReader {
 public:
  // `in` is not owned and must outlive the reader.
  explicit JsonlReader(std::istream* in, size_t max_line_bytes = kMaxJsonlLineBytes);

  // Reads the next non-blank line (without its "\n" or "\r\n") into `line` and its 1-based number
  // in the file into `line_number`. Returns false at end of input. Errors: kInvalidArgument
  // "line N is longer than M bytes" (the rest of that line is not buffered); kUnavailable when the
  // stream fails for another reason than end of file.
  Result<bool> Next(std::string* line, int64_t* line_number);

 private:
  std::istream* in_;
  size_t max_line_bytes_;
  int64_t line_number_ = 0;
};

// Rewrites the errors of a batch body {"events": [...]} built from `line_numbers` (the file line
// of each item, in order) so each names its line: "events[3].score" → field "line 17: score",
// "events[3]" → "line 17". Errors of other shapes, or with an index outside `line_numbers`, are
// kept as they are.
FieldErrors MapBatchErrorsToLines(const FieldErrors& errors,
                                  const std::vector<int64_t>& line_numbers);

}  // namespace auri::pipeline
