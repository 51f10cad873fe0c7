#include "pipeline/event.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace auri::pipeline {
namespace {

using nlohmann::json;

constexpr char kTx[] = "0xAB00000000000000000000000000000000000000000000000000000000000001";
constexpr char kTxLower[] = "0xab00000000000000000000000000000000000000000000000000000000000001";
constexpr char kAddress[] = "0x1eE99E92735eE2972ecbBAC7DDe18a522793c8b4";
constexpr char kAddressLower[] = "0x1ee99e92735ee2972ecbbac7dde18a522793c8b4";

// A valid NewFeedback event; tests change one thing at a time.
json Feedback() {
  return {{"chain_id", 11155111},
          {"block_number", 9745091},
          {"block_hash", nullptr},
          {"transaction_hash", kTx},
          {"log_index", 9},
          {"registry", "reputation"},
          {"event_type", "NewFeedback"},
          {"agent_id", 42},
          {"timestamp", 1764584304},
          {"client_address", kAddress},
          {"feedback_index", 3},
          {"score", 87},
          {"tag1", "quality"},
          {"tag2", "speed"},
          {"file_uri", "ipfs://QmbJRRfnmZNTpBBuQU5PhqLvfzxTP9r6wXaLa17NtnUU7d"},
          {"file_hash", "0x083AB01307E13E4201A8DC3816BCA3FA65C76707F698B8B1D72486B0B4BFDCE0"}};
}

// The errors of validating `j`, or an empty list (and a test failure) when it validates.
FieldErrors ErrorsOf(const json& j) {
  FieldErrors errors;
  Result<Event> e = ValidateEvent(j.dump(), &errors);
  EXPECT_FALSE(e.ok()) << j.dump();
  if (!e.ok()) {
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  }
  return errors;
}

// The message for `field`, or "" when there is no error for it.
std::string MessageFor(const FieldErrors& errors, std::string_view field) {
  for (const FieldError& e : errors) {
    if (e.field == field) return e.message;
  }
  return "";
}

Event Valid(const json& j) {
  FieldErrors errors;
  Result<Event> e = ValidateEvent(j.dump(), &errors);
  EXPECT_TRUE(e.ok()) << SummarizeFieldErrors(errors) << "\n" << j.dump();
  return e.ok() ? e.value() : Event{};
}

std::string FixturePath() {
  std::string relative = "/../shared/fixtures/erc8004-real-events.jsonl";
  std::string by_source = std::string(AURI_SOURCE_DIR) + relative;
  if (std::filesystem::exists(by_source)) return by_source;
  if (const char* shared = std::getenv("AURI_SHARED_DIR")) {
    std::string by_env = std::string(shared) + "/fixtures/erc8004-real-events.jsonl";
    if (std::filesystem::exists(by_env)) return by_env;
  }
  return "";
}

TEST(EventValidationTest, EveryLineOfTheRealFixtureIngestsCleanly) {
  std::string path = FixturePath();
  if (path.empty()) {
    GTEST_SKIP() << "fixture not found: neither " << AURI_SOURCE_DIR
                 << "/../shared/fixtures/erc8004-real-events.jsonl nor "
                    "$AURI_SHARED_DIR/fixtures/erc8004-real-events.jsonl exists";
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++lines;
    FieldErrors errors;
    Result<Event> event = ValidateEvent(line, &errors);
    ASSERT_TRUE(event.ok()) << path << ":" << lines << ": " << event.status().ToString();
    json given = json::parse(line);
    EXPECT_EQ(event->id, given["id"].get<std::string>()) << "line " << lines;
    // Everything hex is stored lowercase, whatever case it was published in.
    for (const char* f : {"transaction_hash", "owner", "client_address", "validator_address",
                          "file_hash", "response_hash"}) {
      std::optional<EventField> field = EventFieldByName(f);
      ASSERT_TRUE(field);
      FieldValue v = GetEventField(*event, *field);
      if (v.kind != FieldValue::Kind::kString) continue;
      std::string lower(v.text);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      EXPECT_EQ(v.text, lower) << f << " on line " << lines;
    }
  }
  EXPECT_EQ(lines, 7);
}

TEST(EventValidationTest, FixtureNewFeedbackKeepsHashLikeTagsAsPublished) {
  std::string path = FixturePath();
  if (path.empty()) GTEST_SKIP() << "fixture not found (see the previous test)";
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("NewFeedback") == std::string::npos) continue;
    Result<Event> e = ValidateEvent(line);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    // Tags are strings, not hashes: exact and case-sensitive (tag_equals), so kept as given.
    EXPECT_EQ(e->tag1, "0x8A51716CF2D6BDF7644D27BDE1D3F6555E8F3BFD84E5D6C15AED8FB41188D9FF");
    EXPECT_EQ(e->score, 100);
    EXPECT_FALSE(e->feedback_index.has_value());
    EXPECT_EQ(e->file_hash, "0x083ab01307e13e4201a8dc3816bca3fa65c76707f698b8b1d72486b0b4bfdce0");
    return;
  }
  FAIL() << "no NewFeedback line in " << path;
}

TEST(EventValidationTest, ComputesTheIdWhenItIsOmitted) {
  Event e = Valid(Feedback());
  EXPECT_EQ(e.id, std::string("reputation-11155111-") + kTxLower + "-9");
}

TEST(EventValidationTest, AcceptsAGivenIdEqualToTheComputedOne) {
  json j = Feedback();
  j["id"] = std::string("reputation-11155111-") + kTxLower + "-9";
  EXPECT_EQ(Valid(j).id, j["id"]);
}

TEST(EventValidationTest, AcceptsAGivenIdWithTheHashInUpperCaseAndStoresItLowercase) {
  json j = Feedback();
  j["id"] = std::string("reputation-11155111-") + kTx + "-9";
  EXPECT_EQ(Valid(j).id, std::string("reputation-11155111-") + kTxLower + "-9");
}

TEST(EventValidationTest, RejectsAGivenIdThatDiffersFromTheComputedOne) {
  json j = Feedback();
  j["id"] = std::string("reputation-11155111-") + kTxLower + "-10";
  std::string message = MessageFor(ErrorsOf(j), "id");
  EXPECT_NE(message.find(std::string("reputation-11155111-") + kTxLower + "-9"), std::string::npos)
      << message;
}

TEST(EventValidationTest, LowercasesAddressesAndHashes) {
  Event e = Valid(Feedback());
  EXPECT_EQ(e.transaction_hash, kTxLower);
  EXPECT_EQ(e.client_address, kAddressLower);
  EXPECT_EQ(e.file_hash, "0x083ab01307e13e4201a8dc3816bca3fa65c76707f698b8b1d72486b0b4bfdce0");
}

TEST(EventValidationTest, AcceptsABlockHashOrNullOrNone) {
  json j = Feedback();
  EXPECT_FALSE(Valid(j).block_hash.has_value());
  j.erase("block_hash");
  EXPECT_FALSE(Valid(j).block_hash.has_value());
  j["block_hash"] = "0xFF00000000000000000000000000000000000000000000000000000000000000";
  EXPECT_EQ(Valid(j).block_hash,
            "0xff00000000000000000000000000000000000000000000000000000000000000");
}

TEST(EventValidationTest, RejectsMalformedAddressesAndHashes) {
  json j = Feedback();
  j["client_address"] = "0x1234";                  // too short
  j["transaction_hash"] = std::string(kTx) + "0";  // 65 digits
  j["file_hash"] = "0xZZ3AB01307E13E4201A8DC3816BCA3FA65C76707F698B8B1D72486B0B4BFDCE0";
  FieldErrors errors = ErrorsOf(j);
  EXPECT_EQ(MessageFor(errors, "client_address"), "must be 0x followed by 40 hex digits");
  EXPECT_EQ(MessageFor(errors, "transaction_hash"), "must be 0x followed by 64 hex digits");
  EXPECT_EQ(MessageFor(errors, "file_hash"), "must be 0x followed by 64 hex digits");
}

TEST(EventValidationTest, RejectsAnUnknownRegistry) {
  json j = Feedback();
  j["registry"] = "reputations";
  EXPECT_EQ(MessageFor(ErrorsOf(j), "registry"), "must be one of identity, reputation, validation");
}

TEST(EventValidationTest, RejectsAnEventTypeOfAnotherRegistry) {
  json j = Feedback();
  j["registry"] = "identity";
  EXPECT_EQ(MessageFor(ErrorsOf(j), "event_type"),
            "must be one of Registered, MetadataSet, URIUpdated, Transfer for registry identity");
}

TEST(EventValidationTest, AcceptsEveryEventTypeOfTheSpec) {
  const std::vector<std::pair<std::string, std::string>> types = {
      {"identity", "Registered"},          {"identity", "MetadataSet"},
      {"identity", "URIUpdated"},          {"identity", "Transfer"},
      {"reputation", "NewFeedback"},       {"reputation", "FeedbackRevoked"},
      {"reputation", "ResponseAppended"},  {"validation", "ValidationRequest"},
      {"validation", "ValidationResponse"}};
  for (const auto& [registry, type] : types) {
    json j = Feedback();
    j["registry"] = registry;
    j["event_type"] = type;
    Event e = Valid(j);
    EXPECT_EQ(e.event_type, type);
    EXPECT_TRUE(IsEventTypeOf(registry, type));
  }
}

TEST(EventValidationTest, IgnoresFieldsOfOtherEventTypesAndUnknownFields) {
  json j = Feedback();
  j["registry"] = "identity";
  j["event_type"] = "Registered";
  j["score"] = 1000;          // not a Registered field: ignored, even though invalid
  j["colour"] = "turquoise";  // unknown: ignored
  Event e = Valid(j);
  EXPECT_FALSE(e.score.has_value());
  EXPECT_FALSE(e.client_address.has_value());
}

TEST(EventValidationTest, EmptyTagsBecomeNull) {
  json j = Feedback();
  j["tag1"] = "";
  Event e = Valid(j);
  EXPECT_FALSE(e.tag1.has_value());
  EXPECT_EQ(e.tag2, "speed");
}

TEST(EventValidationTest, TagsAreLimitedTo255CharactersNotBytes) {
  json j = Feedback();
  std::string e_acute = "\xC3\xA9";
  std::string tag;
  for (int i = 0; i < 255; ++i) tag += e_acute;  // 255 characters, 510 bytes
  j["tag1"] = tag;
  EXPECT_EQ(Valid(j).tag1, tag);
  j["tag1"] = tag + "x";
  EXPECT_EQ(MessageFor(ErrorsOf(j), "tag1"), "must be at most 255 characters");
}

TEST(EventValidationTest, RejectsNulInsideAString) {
  json j = Feedback();
  j["tag2"] = std::string("a\0b", 3);
  EXPECT_EQ(MessageFor(ErrorsOf(j), "tag2"), "must not contain NUL characters");
}

TEST(EventValidationTest, UrisAreLimitedTo2048Characters) {
  json j = Feedback();
  j["file_uri"] = "ipfs://" + std::string(2041, 'a');  // exactly 2048
  EXPECT_TRUE(Valid(j).file_uri.has_value());
  j["file_uri"] = "ipfs://" + std::string(2042, 'a');
  EXPECT_EQ(MessageFor(ErrorsOf(j), "file_uri"), "must be at most 2048 characters");
}

TEST(EventValidationTest, MetadataKeyMustHave1To255CharactersAndValueAtMost10000) {
  json j = Feedback();
  j["registry"] = "identity";
  j["event_type"] = "MetadataSet";
  j["metadata_key"] = "tee_platform";
  j["metadata_value"] = std::string(10000, 'v');
  Event e = Valid(j);
  EXPECT_EQ(e.metadata_value->size(), 10000u);
  j["metadata_key"] = "";
  j["metadata_value"] = std::string(10001, 'v');
  FieldErrors errors = ErrorsOf(j);
  EXPECT_EQ(MessageFor(errors, "metadata_key"), "must be 1..255 characters");
  EXPECT_EQ(MessageFor(errors, "metadata_value"), "must be at most 10000 characters");
}

TEST(EventValidationTest, ScoreAndResponseMustBe0To100) {
  json j = Feedback();
  j["score"] = 101;
  EXPECT_EQ(MessageFor(ErrorsOf(j), "score"), "must be an integer between 0 and 100, got 101");
  j["score"] = -1;
  EXPECT_EQ(MessageFor(ErrorsOf(j), "score"), "must be an integer between 0 and 100, got -1");
  j["score"] = 0;
  EXPECT_EQ(Valid(j).score, 0);

  json v = Feedback();
  v["registry"] = "validation";
  v["event_type"] = "ValidationResponse";
  v["response"] = 100;
  EXPECT_EQ(Valid(v).response, 100);
  v["response"] = 250;
  EXPECT_NE(MessageFor(ErrorsOf(v), "response"), "");
}

TEST(EventValidationTest, AgentIdAcceptsTheFullInt64Range) {
  json j = Feedback();
  j["agent_id"] = 0;
  EXPECT_EQ(Valid(j).agent_id, 0);
  j["agent_id"] = 9223372036854775807LL;
  EXPECT_EQ(Valid(j).agent_id, 9223372036854775807LL);
}

TEST(EventValidationTest, AgentIdRejectsNegativesFloatsStringsAndValuesAboveInt64) {
  const std::string expected = "must be an integer between 0 and 9223372036854775807";
  json j = Feedback();
  j["agent_id"] = -1;
  EXPECT_EQ(MessageFor(ErrorsOf(j), "agent_id"), expected + ", got -1");
  j["agent_id"] = 4.5;
  EXPECT_EQ(MessageFor(ErrorsOf(j), "agent_id"), expected + ", got a fractional number");
  j["agent_id"] = 42.0;  // still a JSON float
  EXPECT_EQ(MessageFor(ErrorsOf(j), "agent_id"), expected + ", got a fractional number");
  j["agent_id"] = "42";
  EXPECT_EQ(MessageFor(ErrorsOf(j), "agent_id"), expected + ", got a string");
  j["agent_id"] = 9223372036854775808ULL;
  EXPECT_EQ(MessageFor(ErrorsOf(j), "agent_id"), expected + ", got 9223372036854775808");
  // Beyond uint64: nlohmann stores it as a float.
  std::string text = Feedback().dump();
  text.replace(text.find("\"agent_id\":42"), 13, "\"agent_id\":99999999999999999999999");
  FieldErrors errors;
  EXPECT_FALSE(ValidateEvent(text, &errors).ok());
  EXPECT_EQ(MessageFor(errors, "agent_id"), expected + ", got a fractional number");
}

TEST(EventValidationTest, BlockNumberAndLogIndexMustNotBeNegative) {
  json j = Feedback();
  j["block_number"] = -5;
  j["log_index"] = -1;
  FieldErrors errors = ErrorsOf(j);
  EXPECT_NE(MessageFor(errors, "block_number"), "");
  EXPECT_NE(MessageFor(errors, "log_index"), "");
}

TEST(EventValidationTest, LogIndexMustFitThePostgresIntegerColumn) {
  json j = Feedback();
  j["log_index"] = 2147483647;
  EXPECT_EQ(Valid(j).log_index, 2147483647);
  j["log_index"] = 2147483648LL;
  EXPECT_EQ(MessageFor(ErrorsOf(j), "log_index"),
            "must be an integer between 0 and 2147483647, got 2147483648");
}

TEST(EventValidationTest, ChainIdMustBePositive) {
  json j = Feedback();
  j["chain_id"] = 0;
  EXPECT_NE(MessageFor(ErrorsOf(j), "chain_id"), "");
}

TEST(EventValidationTest, RequiredFieldsAreNamedWhenMissingOrNull) {
  json j = Feedback();
  j.erase("timestamp");
  j["agent_id"] = nullptr;
  j.erase("transaction_hash");
  FieldErrors errors = ErrorsOf(j);
  EXPECT_EQ(MessageFor(errors, "timestamp"), "is required");
  EXPECT_EQ(MessageFor(errors, "agent_id"), "is required");
  EXPECT_EQ(MessageFor(errors, "transaction_hash"), "is required");
}

TEST(EventValidationTest, WrongJsonTypesNameTheField) {
  json j = Feedback();
  j["chain_id"] = "11155111";
  j["tag1"] = true;
  j["file_uri"] = json::array();
  j["block_hash"] = json::object();
  FieldErrors errors = ErrorsOf(j);
  EXPECT_EQ(MessageFor(errors, "chain_id"),
            "must be an integer between 1 and 9223372036854775807, got a string");
  EXPECT_EQ(MessageFor(errors, "tag1"), "must be a string, got a boolean");
  EXPECT_EQ(MessageFor(errors, "file_uri"), "must be a string, got an array");
  EXPECT_EQ(MessageFor(errors, "block_hash"), "must be a string, got an object");
}

TEST(EventValidationTest, AWrongRegistryTypeIsNamedAndPerTypeFieldsAreNotGuessed) {
  json j = Feedback();
  j["registry"] = 7;
  j["score"] = "high";  // cannot be judged without knowing the event type
  FieldErrors errors = ErrorsOf(j);
  EXPECT_EQ(MessageFor(errors, "registry"), "must be a string, got an integer");
  EXPECT_EQ(errors.size(), 1u) << SummarizeFieldErrors(errors);
}

TEST(EventValidationTest, CollectsEveryBadFieldInOnePass) {
  json j = Feedback();
  j["score"] = 300;
  j["client_address"] = "nope";
  j["timestamp"] = -1;
  FieldErrors errors = ErrorsOf(j);
  EXPECT_EQ(errors.size(), 3u) << SummarizeFieldErrors(errors);
  Result<Event> e = ValidateEvent(j.dump());
  EXPECT_NE(e.status().message().find("score: must be an integer between 0 and 100"),
            std::string::npos)
      << e.status().message();
}

TEST(EventValidationTest, InvalidUtf8IsAnErrorOnTheBody) {
  std::string text = Feedback().dump();
  text.replace(text.find("quality"), 7, "qu\xFF\xFElity");
  FieldErrors errors;
  Result<Event> e = ValidateEvent(text, &errors);
  ASSERT_FALSE(e.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "body");
  EXPECT_NE(errors[0].message.find("is not valid JSON"), std::string::npos) << errors[0].message;
  // The message must not echo the invalid bytes back (it becomes part of a JSON error body).
  EXPECT_EQ(errors[0].message.find('\xFF'), std::string::npos);
}

TEST(EventValidationTest, DeeplyNestedJsonIsRejectedWithoutExhaustingTheStack) {
  // 1 MiB of nesting is what the API's body limit lets through.
  std::string text =
      R"({"agent_id": )" + std::string(500'000, '[') + std::string(500'000, ']') + "}";
  FieldErrors errors;
  EXPECT_FALSE(ValidateEvent(text, &errors).ok());
  EXPECT_NE(MessageFor(errors, "agent_id"), "");
}

TEST(EventValidationTest, RejectsABodyThatIsNotAnObject) {
  FieldErrors errors;
  EXPECT_FALSE(ValidateEvent("[1,2]", &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], (FieldError{"body", "must be a JSON object (one event)"}));
}

TEST(EventBodyValidationTest, AcceptsASingleEventObject) {
  Result<std::vector<Event>> events = ValidateEventBody(Feedback().dump());
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_EQ(events->size(), 1u);
}

TEST(EventBodyValidationTest, AcceptsABatchAndKeepsItsOrder) {
  json second = Feedback();
  second["log_index"] = 10;
  json body = {{"events", {Feedback(), second}}};
  Result<std::vector<Event>> events = ValidateEventBody(body.dump());
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].log_index, 10);
}

TEST(EventBodyValidationTest, ABadItemFailsTheWholeBatchAndIsNamedByIndex) {
  json bad = Feedback();
  bad["score"] = 101;
  json body = {{"events", {Feedback(), bad, 7}}};
  FieldErrors errors;
  Result<std::vector<Event>> events = ValidateEventBody(body.dump(), &errors);
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(MessageFor(errors, "events[1].score"), "must be an integer between 0 and 100, got 101");
  EXPECT_EQ(MessageFor(errors, "events[2]"), "must be an event object");
  EXPECT_EQ(errors.size(), 2u);
}

TEST(EventBodyValidationTest, RefusesMoreThan1000Events) {
  json body = {{"events", json::array()}};
  for (int i = 0; i < 1001; ++i) body["events"].push_back(json::object());
  FieldErrors errors;
  EXPECT_FALSE(ValidateEventBody(body.dump(), &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "events");
  EXPECT_EQ(errors[0].message, "must hold at most 1000 events, got 1001");
}

TEST(EventBodyValidationTest, EventsMustBeAnArray) {
  FieldErrors errors;
  EXPECT_FALSE(ValidateEventBody(R"({"events": {}})", &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "events");
}

TEST(EventBodyValidationTest, AnEmptyBatchIsValid) {
  Result<std::vector<Event>> events = ValidateEventBody(R"({"events": []})");
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

TEST(EventSerializationTest, ValidatingTheJsonOfAnEventGivesTheSameEvent) {
  Event e = Valid(Feedback());
  Result<Event> again = ValidateEvent(EventToJson(e));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, e);
}

TEST(EventSerializationTest, JsonHasCoreAndTypeFieldsWithNullsButNotForeignFields) {
  json j = Feedback();
  j.erase("tag2");
  json out = json::parse(EventToJson(Valid(j)));
  EXPECT_EQ(out["id"], std::string("reputation-11155111-") + kTxLower + "-9");
  EXPECT_EQ(out["agent_id"], 42);
  EXPECT_TRUE(out.contains("block_hash") && out["block_hash"].is_null());
  EXPECT_TRUE(out.contains("tag2") && out["tag2"].is_null());  // a NewFeedback field
  EXPECT_FALSE(out.contains("metadata_key"));                  // not a NewFeedback field
  EXPECT_EQ(out["client_address"], kAddressLower);
}

TEST(EventFieldTest, LooksUpFieldsByTheirJsonNames) {
  EXPECT_EQ(EventFieldByName("agent_id"), EventField::kAgentId);
  EXPECT_EQ(EventFieldByName("tag2"), EventField::kTag2);
  EXPECT_FALSE(EventFieldByName("Agent_Id").has_value());
  EXPECT_EQ(EventFieldName(EventField::kValidatorAddress), "validator_address");
  EXPECT_EQ(EventFieldKind(EventField::kScore), FieldKind::kInteger);
  EXPECT_EQ(EventFieldKind(EventField::kOwner), FieldKind::kString);
  EXPECT_TRUE(IsLowercaseHexField(EventField::kOwner));
  EXPECT_FALSE(IsLowercaseHexField(EventField::kTag1));
}

TEST(EventFieldTest, AbsentOptionalFieldsReadAsMissing) {
  Event e = Valid(Feedback());
  EXPECT_EQ(GetEventField(e, EventField::kResponse).kind, FieldValue::Kind::kMissing);
  EXPECT_EQ(GetEventField(e, EventField::kBlockHash).kind, FieldValue::Kind::kMissing);
  FieldValue score = GetEventField(e, EventField::kScore);
  EXPECT_EQ(score.kind, FieldValue::Kind::kInteger);
  EXPECT_EQ(score.integer, 87);
}

}  // namespace
}  // namespace auri::pipeline
