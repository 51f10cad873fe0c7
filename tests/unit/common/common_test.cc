#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/fs.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/random.h"

namespace auri {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/auri-common-XXXXXX";
  return ::mkdtemp(tmpl);
}

TEST(FsTest, AtomicWriteReplacesContentAndSetsMode) {
  std::string dir = TempDir();
  std::string path = dir + "/f";
  ASSERT_TRUE(WriteFileAtomically(path, "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two", 0600).ok());
  auto content = ReadFileLimited(path, 100);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "two");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(PathExists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(FsTest, ReadRefusesFilesOverTheLimit) {
  std::string path = TempDir() + "/big";
  ASSERT_TRUE(WriteFileAtomically(path, std::string(2000, 'x')).ok());
  auto content = ReadFileLimited(path, 1000);
  EXPECT_EQ(content.status().code(), StatusCode::kResourceExhausted);
}

TEST(FsTest, ReadOfMissingFileIsNotFound) {
  EXPECT_EQ(ReadFileLimited("/nonexistent/x", 10).status().code(), StatusCode::kNotFound);
}

TEST(LoggingTest, LinesAreValidJsonWithFieldsAndEscapedInvalidUtf8) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Logger log(fds[1], "test");
  log.Info("hello \"world\"\n",
           {{"request_id", "abc"}, {"n", 42}, {"bad", "\xff\xfe"}, {"ok", true}});
  ::close(fds[1]);
  char buf[1024];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  ASSERT_GT(n, 0);
  std::string line(buf, static_cast<size_t>(n));
  ASSERT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], "hello \"world\"\n");
  EXPECT_EQ(j["component"], "test");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["request_id"], "abc");
  EXPECT_EQ(j["n"], 42);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["bad"], "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(LoggingTest, LinesBelowTheLevelAreDropped) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Logger log(fds[1], "test", LogLevel::kWarn);
  log.Info("dropped");
  log.Warn("kept");
  ::close(fds[1]);
  char buf[1024];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  std::string out(buf, static_cast<size_t>(n));
  EXPECT_EQ(out.find("dropped"), std::string::npos);
  EXPECT_NE(out.find("kept"), std::string::npos);
}

TEST(RandomTest, UuidsAreVersion4AndDistinct) {
  std::string a = NewUuid(), b = NewUuid();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, b);
}

TEST(RandomTest, Base64RoundTripsAndMatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  ASSERT_TRUE(Base64Decode("Zm9vYg==", &out));
  EXPECT_EQ(out, "foob");
  EXPECT_FALSE(Base64Decode("Zm9v!", &out));
}

TEST(MetricsTest, RendersCountersAndHistogramsInExpositionFormat) {
  MetricsRegistry registry;
  auto* requests = registry.AddCounter("auri_test_total", "Test counter.", {"route"});
  auto* latency = registry.AddHistogram("auri_test_seconds", "Test latency.", {"route"}, {0.1, 1});
  requests->Inc({"/health"});
  requests->Inc({"/health"});
  latency->Observe({"/health"}, 0.05);
  latency->Observe({"/health"}, 0.5);
  registry.AddGauge("auri_test_gauge", "Test gauge.", [] { return 7.0; });
  std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE auri_test_total counter"), std::string::npos);
  EXPECT_NE(text.find("auri_test_total{route=\"/health\"} 2"), std::string::npos);
  EXPECT_NE(text.find("auri_test_seconds_bucket{route=\"/health\",le=\"0.1\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("auri_test_seconds_bucket{route=\"/health\",le=\"1\"} 2"), std::string::npos);
  EXPECT_NE(text.find("auri_test_seconds_bucket{route=\"/health\",le=\"+Inf\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("auri_test_seconds_count{route=\"/health\"} 2"), std::string::npos);
  EXPECT_NE(text.find("auri_test_gauge 7"), std::string::npos);
}

TEST(MetricsTest, GaugeFamilyRendersOneSeriesPerLabelSet) {
  MetricsRegistry registry;
  registry.AddGaugeFamily("auri_test_lag_bytes", "Lag per repository.", {"repo"}, [] {
    return MetricsRegistry::LabelledValues{{{"1"}, 0}, {{"2"}, 4096}};
  });
  std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE auri_test_lag_bytes gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("auri_test_lag_bytes{repo=\"1\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("auri_test_lag_bytes{repo=\"2\"} 4096\n"), std::string::npos) << text;
}

TEST(MetricsTest, ResidentMemoryIsReported) { EXPECT_GT(ProcessResidentBytes(), 1024.0); }

}  // namespace
}  // namespace auri
