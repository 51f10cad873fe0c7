// POST /api/v1/events end to end: a real api Server in-process, the real repository and a real
// PostgreSQL (the harness's), so status codes, bodies and stored rows are what clients get.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/authenticator.h"
#include "api/events_handler.h"
#include "api/health.h"
#include "api/routes.h"
#include "api/server.h"
#include "common/metrics.h"
#include "secrets/master_key.h"
#include "secrets/secret_matcher.h"
#include "secrets/secret_store.h"
#include "stack/process.h"
#include "store/event_repository.h"
#include "tests/integration/api/raw_http.h"
#include "tests/integration/fixture_events.h"
#include "tests/integration/harness.h"
#include "tests/integration/store/store_test_util.h"
#include "tests/unit/api/log_capture.h"

namespace auri::api::test {
namespace {

class EventsIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_path_ = auri::testing::RealEventsFixturePath();
    if (fixture_path_.empty()) {
      GTEST_SKIP() << "fixture erc8004-real-events.jsonl not found next to the source tree nor "
                      "under $AURI_SHARED_DIR";
    }
    lines_ = auri::testing::ReadLines(fixture_path_);

    // A real secret store under a fresh home, as `auri up` prepares it, so the token check is the
    // gateway's (SecretMatcher) and `auri ingest` can read the same token.
    char home_template[] = "/tmp/auri-ingest-test-XXXXXX";
    ASSERT_NE(::mkdtemp(home_template), nullptr);
    home_ = home_template;
    Result<MasterKey> key = LoadOrCreateMasterKey("", home_ + "/master.key", /*create=*/true);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    Result<SecretStore> store = SecretStore::Open(home_ + "/secrets", std::move(key).value());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    secrets_ = std::make_unique<SecretStore>(std::move(store).value());
    ASSERT_TRUE(secrets_->EnsureInitialSecrets().ok());
    Result<SecretVersion> token = secrets_->Get("ingest-token");
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    token_ = token->value.reveal();
    matcher_ = std::make_unique<SecretMatcher>(secrets_.get(), "ingest-token", &clock_);

    dsn_ = auri::testing::CreateMigratedDatabase();
    pool_ = std::make_unique<ConnectionPool>(PoolOptions{.dsn = dsn_, .size = 2});
    probe_ = std::make_unique<DependencyProbe>(
        [] { return Status::Ok(); }, [] { return Status::Ok(); }, std::chrono::milliseconds(50));
    probe_->Start();

    GatewayDeps deps{.probe = probe_.get(), .metrics = &metrics_};
    deps.ingest.store = [this](const std::vector<pipeline::Event>& events) -> Result<IngestCounts> {
      ASSIGN_OR_RETURN(InsertEventsResult r,
                       InsertEvents(*pool_, events, std::chrono::milliseconds(3000)));
      return IngestCounts{r.accepted, r.duplicates};
    };
    deps.ingest.metrics = RegisterIngestMetrics(&metrics_);
    Result<Router> router = Router::Create(BaseRoutes(deps));
    ASSERT_TRUE(router.ok()) << router.status().ToString();
    Config::Api api;
    api.host = "127.0.0.1";
    api.port = 0;
    api.threads = 2;
    api.body_limit_bytes = 1 << 20;
    api.header_limit_bytes = 16 << 10;
    api.read_timeout_seconds = 5;
    api.shutdown_timeout_seconds = 5;
    authenticator_ = std::make_unique<Authenticator>(AuthenticatorDeps{
        .pool = pool_.get(),
        .ingest_token_valid = [this](std::string_view t) { return matcher_->Matches(t); },
        .argon2_limits = Argon2Limits::Minimum()});
    PipelineHooks hooks;
    hooks.authenticate = [this](const HttpRequest& r) { return authenticator_->Authenticate(r); };
    server_ = std::make_unique<Server>(api, log_.logger(), metrics_, std::move(router).value(),
                                       std::move(hooks));
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  void TearDown() override {
    server_.reset();
    if (probe_) probe_->Stop();
    if (!home_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(home_, ignored);
    }
  }

  RawResponse Post(const std::string& body) { return Post(body, token_); }
  RawResponse Post(const std::string& body, std::string_view token,
                   std::string_view content_type = "application/json") {
    std::string request = "POST /api/v1/events HTTP/1.1\r\nHost: test\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + std::string(token) + "\r\n";
    if (!content_type.empty()) request += "Content-Type: " + std::string(content_type) + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    request += body;
    std::optional<RawResponse> r =
        Fetch(server_->port(), request, std::chrono::milliseconds(15000));
    EXPECT_TRUE(r.has_value()) << "no response";
    return r.value_or(RawResponse{});
  }

  std::string Batch(const std::vector<std::string>& items) {
    std::string body = "{\"events\": [";
    for (size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
    return body + "]}";
  }

  std::string Count(const std::string& table) {
    return auri::testing::QueryValue(dsn_, "SELECT count(*) FROM " + table);
  }

  // Runs `auri ingest` against this test's gateway; returns exit code and output.
  CommandResult RunIngestCli(const std::string& file_text, std::vector<std::string> extra = {}) {
    std::string file = home_ + "/events.jsonl";
    std::ofstream(file, std::ios::binary | std::ios::trunc) << file_text;
    std::vector<std::string> argv = {auri::testing::AuriBinary(),
                                     "--set",
                                     "general.home=" + home_,
                                     "ingest",
                                     file,
                                     "--url",
                                     "http://127.0.0.1:" + std::to_string(server_->port())};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Result<CommandResult> r = RunCommand(argv, "", std::chrono::seconds(60));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CommandResult{};
  }

  std::string fixture_path_;
  std::vector<std::string> lines_;
  std::string home_;
  SystemClock clock_;
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<SecretMatcher> matcher_;
  std::string token_;
  std::string dsn_;
  std::unique_ptr<ConnectionPool> pool_;
  LogCapture log_{LogLevel::kInfo};
  MetricsRegistry metrics_;
  std::unique_ptr<DependencyProbe> probe_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<Server> server_;
};

TEST_F(EventsIngestTest, AllFixtureEventsAreAcceptedThenCountedAsDuplicates) {
  ASSERT_EQ(lines_.size(), 7u);
  RawResponse first = Post(Batch(lines_));
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(nlohmann::json::parse(first.body),
            nlohmann::json({{"accepted", 7}, {"duplicates", 0}}));
  EXPECT_EQ(Count("events"), "7");

  RawResponse again = Post(Batch(lines_));
  ASSERT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(nlohmann::json::parse(again.body),
            nlohmann::json({{"accepted", 0}, {"duplicates", 7}}));
  EXPECT_EQ(Count("events"), "7");
  EXPECT_NE(metrics_.Render().find("auri_events_duplicate_total 7"), std::string::npos)
      << metrics_.Render();
}

TEST_F(EventsIngestTest, EachStoredEventHasExactlyOneQueueRow) {
  ASSERT_EQ(Post(Batch(lines_)).status, 202);
  ASSERT_EQ(Post(Batch(lines_)).status, 202);
  EXPECT_EQ(Count("event_queue"), "7");
  EXPECT_EQ(auri::testing::QueryValue(dsn_,
                                      "SELECT count(*) FROM events e WHERE (SELECT count(*) "
                                      "FROM event_queue q WHERE q.event_id = e.id) <> 1"),
            "0");
}

TEST_F(EventsIngestTest, SingleEventBodyWithUppercaseHexIsStoredLowercase) {
  nlohmann::json event = nlohmann::json::parse(lines_[0]);
  event.erase("id");
  std::string hash = event["transaction_hash"];
  std::transform(hash.begin() + 2, hash.end(), hash.begin() + 2,
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  event["transaction_hash"] = hash;
  RawResponse r = Post(event.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(auri::testing::QueryValue(
                dsn_,
                "SELECT count(*) FROM events WHERE transaction_hash = lower(transaction_hash) "
                "AND id = lower(id)"),
            "1");
}

TEST_F(EventsIngestTest, OneBadItemRejectsTheBatchNamingThatItem) {
  std::vector<std::string> items = lines_;
  nlohmann::json bad = nlohmann::json::parse(items[3]);
  bad["agent_id"] = "not a number";
  items[3] = bad.dump();
  RawResponse r = Post(Batch(items));
  ASSERT_EQ(r.status, 400) << r.body;
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"], "validation_error");
  EXPECT_TRUE(body["details"]["fields"].contains("events[3].agent_id")) << r.body;
  EXPECT_EQ(body["details"]["fields"].size(), 1u) << r.body;
  EXPECT_EQ(Count("events"), "0");
  EXPECT_EQ(Count("event_queue"), "0");
}

TEST_F(EventsIngestTest, MoreThanAThousandEventsIsAValidationError) {
  std::vector<std::string> items(1001, lines_[2]);  // the shortest: stays under 1 MiB
  RawResponse r = Post(Batch(items));
  ASSERT_EQ(r.status, 400) << r.body;
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"], "validation_error");
  EXPECT_EQ(body["details"]["fields"]["events"], "must hold at most 1000 events, got 1001");
  EXPECT_EQ(Count("events"), "0");
}

TEST_F(EventsIngestTest, MissingTokenIsUnauthorized) {
  RawResponse r = Post(Batch(lines_), "");
  ASSERT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "unauthorized");
  EXPECT_EQ(Count("events"), "0");
}

TEST_F(EventsIngestTest, WrongTokenIsInvalidToken) {
  RawResponse r = Post(Batch(lines_), "ing_wrong");
  ASSERT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "invalid_token");
  EXPECT_EQ(Count("events"), "0");
}

TEST_F(EventsIngestTest, NonJsonContentTypeIsUnsupportedMediaType) {
  RawResponse r = Post(Batch(lines_), token_, "text/plain");
  ASSERT_EQ(r.status, 415) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "unsupported_media_type");
  RawResponse with_charset = Post(Batch(lines_), token_, "Application/JSON; charset=utf-8");
  EXPECT_EQ(with_charset.status, 202) << with_charset.body;
}

TEST_F(EventsIngestTest, DatabaseDownIs503WithRetryAfterAndRecoversWithoutRestart) {
  auri::testing::StopPostgres();
  RawResponse down = Post(Batch(lines_));
  auri::testing::StartPostgres();
  ASSERT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(nlohmann::json::parse(down.body)["error"], "service_unavailable");
  EXPECT_FALSE(down.Header("retry-after").empty());

  RawResponse up = Post(Batch(lines_));
  ASSERT_EQ(up.status, 202) << up.body;
  EXPECT_EQ(nlohmann::json::parse(up.body)["accepted"], 7);
}

TEST_F(EventsIngestTest, IngestCommandSendsTheFileInBatchesAndCountsDuplicatesOnRerun) {
  std::string text;
  for (const std::string& line : lines_) text += line + "\n\n";  // blank lines are skipped
  CommandResult first = RunIngestCli(text, {"--batch", "3", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(Count("events"), "7");
  CommandResult again = RunIngestCli(text, {"--batch", "3"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("7 lines, 0 accepted, 7 duplicates"), std::string::npos)
      << again.output;
}

TEST_F(EventsIngestTest, IngestCommandNamesTheFileLineOfABadEventAndSendsNothingOfItsBatch) {
  nlohmann::json bad = nlohmann::json::parse(lines_[1]);
  bad["agent_id"] = -1;
  // Line 1 good, line 2 blank, line 3 bad.
  std::string text = lines_[0] + "\n\n" + bad.dump() + "\n";
  CommandResult r = RunIngestCli(text);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("line 3: agent_id"), std::string::npos) << r.output;
  EXPECT_EQ(Count("events"), "0");
}

TEST_F(EventsIngestTest, IngestCommandExitsThreeWhenTheGatewayIsUnreachable) {
  std::string file = home_ + "/one.jsonl";
  std::ofstream(file) << lines_[0] << "\n";
  Result<CommandResult> r =
      RunCommand({auri::testing::AuriBinary(), "--set", "general.home=" + home_, "ingest", file,
                  "--url", "http://127.0.0.1:" + std::to_string(auri::testing::FreePort())},
                 "", std::chrono::seconds(60));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3) << r->output;
  EXPECT_NE(r->output.find("cannot reach the gateway"), std::string::npos) << r->output;
}

}  // namespace
}  // namespace auri::api::test
