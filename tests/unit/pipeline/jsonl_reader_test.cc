// JsonlReader (bounded line reading for `auri ingest`) and the mapping of batch errors to lines.
#include "pipeline/jsonl_reader.h"

#include <gtest/gtest.h>

#include <sstream>

namespace auri::pipeline {
namespace {

TEST(JsonlReaderTest, ReturnsNonBlankLinesWithTheirFileLineNumbers) {
  std::istringstream in("{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}");
  JsonlReader reader(&in);
  std::string line;
  int64_t number = 0;
  std::vector<std::pair<int64_t, std::string>> got;
  while (true) {
    Result<bool> more = reader.Next(&line, &number);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    got.emplace_back(number, line);
  }
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, std::string>>{
                     {1, "{\"a\":1}"}, {4, "{\"b\":2}"}, {5, "{\"c\":3}"}}));
}

TEST(JsonlReaderTest, LineOverTheLimitIsAnErrorNamingTheLine) {
  std::istringstream in("{}\n" + std::string(20, 'x') + "\n{}\n");
  JsonlReader reader(&in, /*max_line_bytes=*/10);
  std::string line;
  int64_t number = 0;
  ASSERT_TRUE(reader.Next(&line, &number).value());
  Result<bool> second = reader.Next(&line, &number);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(second.status().message(), "line 2 is longer than 10 bytes");
}

TEST(JsonlReaderTest, LineOfExactlyTheLimitIsAccepted) {
  std::istringstream in(std::string(10, 'x') + "\n");
  JsonlReader reader(&in, /*max_line_bytes=*/10);
  std::string line;
  int64_t number = 0;
  Result<bool> r = reader.Next(&line, &number);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(line.size(), 10u);
}

TEST(MapBatchErrorsToLinesTest, ItemIndexesBecomeFileLineNumbers) {
  FieldErrors errors = {{"events[0].score", "must be an integer between 0 and 100"},
                        {"events[2]", "must be an object"},
                        {"body", "not JSON"},
                        {"events[9].x", "out of range index"}};
  FieldErrors mapped = MapBatchErrorsToLines(errors, {3, 7, 12});
  EXPECT_EQ(mapped, (FieldErrors{{"line 3: score", "must be an integer between 0 and 100"},
                                 {"line 12", "must be an object"},
                                 {"body", "not JSON"},
                                 {"events[9].x", "out of range index"}}));
}

}  // namespace
}  // namespace auri::pipeline
