#include "pipeline/jsonl_reader.h"

#include <charconv>

namespace auri::pipeline {

JsonlReader::JsonlReader(std::istream* in, size_t max_line_bytes)
    : in_(in), max_line_bytes_(max_line_bytes) {}

Result<bool> JsonlReader::Next(std::string* line, int64_t* line_number) {
  while (true) {
    line->clear();
    if (in_->peek() == std::char_traits<char>::eof()) {
      if (in_->bad()) return Unavailable("reading the input failed");
      return false;
    }
    ++line_number_;
    // Character by character through the stream's buffer, so an over-long line is detected as
    // soon as it passes the limit instead of after it was read whole.
    std::streambuf* buf = in_->rdbuf();
    bool too_long = false;
    while (true) {
      int c = buf->sbumpc();
      if (c == std::char_traits<char>::eof()) {
        in_->setstate(std::ios::eofbit);
        break;
      }
      if (c == '\n') break;
      if (line->size() >= max_line_bytes_) {
        too_long = true;
        break;
      }
      line->push_back(static_cast<char>(c));
    }
    if (too_long) {
      return InvalidArgument("line " + std::to_string(line_number_) + " is longer than " +
                                 std::to_string(max_line_bytes_) + " bytes",
                             "split the file into one event per line");
    }
    if (!line->empty() && line->back() == '\r') line->pop_back();
    if (line->find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    *line_number = line_number_;
    return true;
  }
}

FieldErrors MapBatchErrorsToLines(const FieldErrors& errors,
                                  const std::vector<int64_t>& line_numbers) {
  constexpr std::string_view kPrefix = "events[";
  FieldErrors out;
  out.reserve(errors.size());
  for (const FieldError& e : errors) {
    std::string_view field = e.field;
    size_t close = field.find(']');
    size_t index = 0;
    if (field.rfind(kPrefix, 0) != 0 || close == std::string_view::npos) {
      out.push_back(e);
      continue;
    }
    auto [ptr, ec] = std::from_chars(field.data() + kPrefix.size(), field.data() + close, index);
    if (ec != std::errc() || ptr != field.data() + close || index >= line_numbers.size()) {
      out.push_back(e);
      continue;
    }
    std::string mapped = "line " + std::to_string(line_numbers[index]);
    std::string_view rest = field.substr(close + 1);
    if (!rest.empty() && rest.front() == '.') rest.remove_prefix(1);
    if (!rest.empty()) mapped += ": " + std::string(rest);
    out.push_back({std::move(mapped), e.message});
  }
  return out;
}

}  // namespace auri::pipeline
