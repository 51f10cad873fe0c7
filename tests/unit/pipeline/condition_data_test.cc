// Data-driven condition tests: every tests/data/conditions/*.test file is run by one runner.
//
// File format (one directive per line; '#' starts a comment line; blank lines are ignored):
//
//   trigger [stateful=true|false] [registry=identity|reputation|validation] [chain=<id>|any]
//           [created_at=<unix seconds>]
//       Starts a scenario: a new trigger (defaults: stateful=false, registry=reputation,
//       chain=any, created_at=0) with no conditions and no state.
//   condition <type> [field=<f>] [op=<op>] [value=<v>] [config=<JSON to the end of the line>]
//       Appends a condition. It must pass ValidateCondition for this trigger unless the next line
//       is expect-invalid. <v> is a bare word or a JSON string ("two words", "\"quoted\"").
//       Conditions are numbered 1, 2, ... in the order they are accepted.
//   expect-invalid <field>
//       The condition on the line above must fail validation with an error on <field>; it is not
//       added to the trigger.
//   event <JSON object>
//       An event: the object is merged over a default valid event of the trigger's registry
//       (chain_id 1, agent_id 1, timestamp 1000 + n, a unique transaction hash, the registry's
//       first event type) and must pass ValidateEvent. It then goes the processor's way: index
//       candidates (created_at guard, pins), EvaluateTrigger, state updates stored.
//   expect match|nomatch|skip|error
//       Outcome of the last event. nomatch = did not fire (not a candidate, or evaluated false);
//       skip = not even a candidate; error = evaluation error. An event without an expect line
//       must not be an error.
//   expect-state <n> <JSON object>|none
//       The stored state of condition n contains these keys with these values (numbers equal
//       within 1e-9 relative; arrays and strings exactly); `none` = no state stored yet.
//   set-state <n> <text>
//       Overwrites the stored state of condition n with <text> verbatim (e.g. corrupt JSON).
//
// A failure is reported as <file>:<line>: <what>. A file without any expectation fails, so a
// file cannot pass vacuously; the last test below checks the runner reports a wrong expectation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "pipeline/condition.h"
#include "pipeline/event.h"
#include "pipeline/trigger_index.h"

namespace auri::pipeline {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// True when every key of `expected` is in `actual` with an equal value (numbers within 1e-9).
bool ContainsSubset(const json& actual, const json& expected, std::string* why) {
  if (expected.is_number() && actual.is_number()) {
    double a = actual.get<double>(), e = expected.get<double>();
    if (std::fabs(a - e) <= 1e-9 * std::max({1.0, std::fabs(a), std::fabs(e)})) return true;
    *why = "expected " + expected.dump() + ", got " + actual.dump();
    return false;
  }
  if (expected.is_object()) {
    if (!actual.is_object()) {
      *why = "expected an object, got " + actual.dump();
      return false;
    }
    for (const auto& [key, value] : expected.items()) {
      if (!actual.contains(key)) {
        *why = "key \"" + key + "\" is missing in " + actual.dump();
        return false;
      }
      if (!ContainsSubset(actual[key], value, why)) {
        *why = "\"" + key + "\": " + *why;
        return false;
      }
    }
    return true;
  }
  if (expected.is_array() && actual.is_array() && expected.size() == actual.size()) {
    for (size_t i = 0; i < expected.size(); ++i) {
      if (!ContainsSubset(actual[i], expected[i], why)) return false;
    }
    return true;
  }
  if (expected == actual) return true;
  *why = "expected " + expected.dump() + ", got " + actual.dump();
  return false;
}

class ConditionFileRunner {
 public:
  explicit ConditionFileRunner(std::string path) : path_(std::move(path)) {}

  // Runs the file; returns one "<file>:<line>: <message>" per failure (empty = passed).
  std::vector<std::string> Run() {
    std::ifstream in(path_);
    if (!in) return {path_ + ": cannot open"};
    std::string raw;
    while (std::getline(in, raw)) {
      ++line_;
      std::string text = Trim(raw);
      if (text.empty() || text[0] == '#') continue;
      size_t space = text.find(' ');
      std::string directive = text.substr(0, space);
      std::string rest = space == std::string::npos ? "" : Trim(text.substr(space + 1));
      if (directive != "expect-invalid") {
        ReportInvalidConditionIfUnexpected();
        pending_condition_.reset();
      }
      if (directive == "trigger") {
        FinishEvent();
        StartTrigger(rest);
      } else if (directive == "condition") {
        AddCondition(rest);
      } else if (directive == "expect-invalid") {
        ExpectInvalid(rest);
      } else if (directive == "event") {
        FinishEvent();
        RunEvent(rest);
      } else if (directive == "expect") {
        ExpectOutcome(rest);
      } else if (directive == "expect-state") {
        ExpectState(rest);
      } else if (directive == "set-state") {
        SetState(rest);
      } else {
        Fail("unknown directive \"" + directive + "\"");
      }
    }
    ReportInvalidConditionIfUnexpected();
    FinishEvent();
    if (expectations_ == 0) {
      failures_.push_back(path_ + ": no expectations (a file must check something)");
    }
    return failures_;
  }

  int expectations() const { return expectations_; }

 private:
  enum class Seen { kNone, kMatch, kNoMatch, kSkip, kError };

  void Fail(const std::string& message) {
    failures_.push_back(path_ + ":" + std::to_string(line_) + ": " + message);
  }

  bool NeedTrigger() {
    if (!in_trigger_) Fail("directive before any `trigger` line");
    return in_trigger_;
  }

  // key=value pairs; values are bare words or JSON strings; config= takes the rest of the line.
  bool ParseOptions(std::string_view text, std::map<std::string, std::string>* out) {
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && text[i] == ' ') ++i;
      if (i >= text.size()) break;
      size_t eq = text.find('=', i);
      if (eq == std::string_view::npos) {
        Fail("expected key=value at \"" + std::string(text.substr(i)) + "\"");
        return false;
      }
      std::string key(text.substr(i, eq - i));
      i = eq + 1;
      if (key == "config") {
        (*out)[key] = Trim(text.substr(i));
        break;
      }
      if (i < text.size() && text[i] == '"') {
        size_t j = i + 1;
        while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
        if (j >= text.size()) {
          Fail("unterminated string for " + key);
          return false;
        }
        try {
          (*out)[key] = json::parse(text.substr(i, j - i + 1)).get<std::string>();
        } catch (const json::exception& e) {
          Fail("bad string for " + key + ": " + e.what());
          return false;
        }
        i = j + 1;
      } else {
        size_t j = text.find(' ', i);
        if (j == std::string_view::npos) j = text.size();
        (*out)[key] = std::string(text.substr(i, j - i));
        i = j;
      }
    }
    return true;
  }

  void StartTrigger(const std::string& rest) {
    in_trigger_ = true;
    trigger_ = TriggerDefinition{};
    trigger_.id = "T" + std::to_string(line_);
    trigger_.organization_id = "org";
    trigger_.registry = "reputation";
    states_.clear();
    index_.reset();
    std::map<std::string, std::string> options;
    if (!ParseOptions(rest, &options)) return;
    for (const auto& [key, value] : options) {
      if (key == "stateful" && (value == "true" || value == "false")) {
        trigger_.is_stateful = value == "true";
      } else if (key == "registry") {
        trigger_.registry = value;
      } else if (key == "chain") {
        if (value != "any") trigger_.chain_id = std::stoll(value);
      } else if (key == "created_at") {
        trigger_.created_at_ms = std::stoll(value) * 1000;
      } else {
        Fail("unknown trigger option " + key + "=" + value);
      }
    }
  }

  void AddCondition(const std::string& rest) {
    if (!NeedTrigger()) return;
    size_t space = rest.find(' ');
    ConditionDefinition c;
    c.condition_type = rest.substr(0, space);
    c.id = "cond" + std::to_string(line_);
    std::map<std::string, std::string> options;
    if (space != std::string::npos && !ParseOptions(rest.substr(space + 1), &options)) return;
    for (const auto& [key, value] : options) {
      if (key == "field") {
        c.field = value;
      } else if (key == "op") {
        c.op = value;
      } else if (key == "value") {
        c.value = value;
      } else if (key == "config") {
        c.config = value;
      } else {
        Fail("unknown condition option " + key);
        return;
      }
    }
    // Added now; expect-invalid on the next line takes it back out.
    pending_condition_ = c;
    pending_line_ = line_;
    trigger_.conditions.push_back(c);
    index_.reset();
    FieldErrors errors;
    pending_errors_.clear();
    ConditionContext context{trigger_.is_stateful, trigger_.registry};
    if (!ValidateCondition(c, context, &errors).ok()) {
      pending_errors_ = errors;
      pending_invalid_ = true;
    } else {
      pending_invalid_ = false;
    }
    // Reported at the next directive unless that is expect-invalid.
    pending_reported_ = false;
  }

  void ReportInvalidConditionIfUnexpected() {
    if (pending_condition_ && pending_invalid_ && !pending_reported_) {
      failures_.push_back(
          path_ + ":" + std::to_string(pending_line_) +
          ": condition does not validate: " + SummarizeFieldErrors(pending_errors_));
      pending_reported_ = true;
    }
  }

  void ExpectInvalid(const std::string& field) {
    ++expectations_;
    if (!pending_condition_) {
      Fail("expect-invalid must directly follow a condition line");
      return;
    }
    pending_reported_ = true;
    trigger_.conditions.pop_back();
    index_.reset();
    bool named = std::any_of(pending_errors_.begin(), pending_errors_.end(),
                             [&](const FieldError& e) { return e.field == field; });
    if (!pending_invalid_) {
      Fail("expected the condition to be invalid on " + field + ", but it validates");
    } else if (!named) {
      Fail("expected an error on " + field + ", got: " + SummarizeFieldErrors(pending_errors_));
    }
    pending_condition_.reset();
  }

  json DefaultEvent() {
    ++event_seq_;
    char tx[67];
    std::snprintf(tx, sizeof tx, "0x%064x", event_seq_);
    std::string type = trigger_.registry == "identity"     ? "Registered"
                       : trigger_.registry == "validation" ? "ValidationResponse"
                                                           : "NewFeedback";
    return {{"chain_id", 1},  {"block_number", event_seq_},    {"transaction_hash", tx},
            {"log_index", 0}, {"registry", trigger_.registry}, {"event_type", type},
            {"agent_id", 1},  {"timestamp", 1000 + event_seq_}};
  }

  void RunEvent(const std::string& rest) {
    if (!NeedTrigger()) return;
    last_ = Seen::kNone;
    json event = DefaultEvent();
    try {
      json given = json::parse(rest.empty() ? "{}" : rest);
      if (!given.is_object()) {
        Fail("event must be a JSON object");
        return;
      }
      event.update(given);
    } catch (const json::exception& e) {
      Fail(std::string("event is not valid JSON: ") + e.what());
      return;
    }
    FieldErrors errors;
    Result<Event> validated = ValidateEvent(event.dump(), &errors);
    if (!validated.ok()) {
      Fail("event does not validate: " + SummarizeFieldErrors(errors));
      return;
    }
    if (!index_) index_ = TriggerIndex::Build({trigger_});
    const CompiledTrigger* compiled = nullptr;
    for (const CompiledTrigger* t : index_->Candidates(*validated)) {
      if (t->definition.id == trigger_.id) compiled = t;
    }
    event_line_ = line_;
    outcome_checked_ = false;
    if (compiled == nullptr) {
      last_ = Seen::kSkip;
      return;
    }
    Evaluation r = EvaluateTrigger(*compiled, *validated, states_);
    last_error_ = r.error.ok() ? "" : r.error.message();
    switch (r.outcome) {
      case Outcome::kMatched:
        last_ = Seen::kMatch;
        break;
      case Outcome::kNotMatched:
        last_ = Seen::kNoMatch;
        break;
      case Outcome::kError:
        last_ = Seen::kError;
        break;
    }
    for (const StateUpdate& u : r.state_updates) states_[u.condition_id] = u.state_json;
  }

  // An event whose evaluation failed must be expected to fail.
  void FinishEvent() {
    ReportInvalidConditionIfUnexpected();
    if (last_ == Seen::kError && !outcome_checked_) {
      failures_.push_back(path_ + ":" + std::to_string(event_line_) +
                          ": evaluation error nobody expected: " + last_error_);
    }
    last_ = Seen::kNone;
  }

  void ExpectOutcome(const std::string& want) {
    ++expectations_;
    if (last_ == Seen::kNone) {
      Fail("expect without a preceding event that ran");
      return;
    }
    outcome_checked_ = true;
    bool ok = (want == "match" && last_ == Seen::kMatch) ||
              (want == "nomatch" && (last_ == Seen::kNoMatch || last_ == Seen::kSkip)) ||
              (want == "skip" && last_ == Seen::kSkip) ||
              (want == "error" && last_ == Seen::kError);
    if (want != "match" && want != "nomatch" && want != "skip" && want != "error") {
      Fail("expect takes match|nomatch|skip|error, got \"" + want + "\"");
      return;
    }
    if (!ok) {
      const char* got = last_ == Seen::kMatch     ? "match"
                        : last_ == Seen::kNoMatch ? "nomatch"
                        : last_ == Seen::kSkip    ? "skip (not a candidate)"
                                                  : "error";
      Fail("expected " + want + ", got " + got +
           (last_error_.empty() || last_ != Seen::kError ? "" : ": " + last_error_));
    }
  }

  // The id of condition n (1-based, accepted conditions in order).
  const ConditionDefinition* ConditionNumber(const std::string& text) {
    int n = 0;
    try {
      n = std::stoi(text);
    } catch (...) {
    }
    if (n < 1 || static_cast<size_t>(n) > trigger_.conditions.size()) {
      Fail("no condition number \"" + text + "\" (the trigger has " +
           std::to_string(trigger_.conditions.size()) + ")");
      return nullptr;
    }
    return &trigger_.conditions[static_cast<size_t>(n - 1)];
  }

  void ExpectState(const std::string& rest) {
    ++expectations_;
    if (!NeedTrigger()) return;
    size_t space = rest.find(' ');
    const ConditionDefinition* c = ConditionNumber(rest.substr(0, space));
    if (c == nullptr) return;
    std::string want = space == std::string::npos ? "" : Trim(rest.substr(space + 1));
    auto it = states_.find(c->id);
    if (want == "none") {
      if (it != states_.end()) Fail("expected no state, got " + it->second);
      return;
    }
    if (it == states_.end()) {
      Fail("expected state " + want + ", but none is stored");
      return;
    }
    try {
      std::string why;
      if (!ContainsSubset(json::parse(it->second), json::parse(want), &why)) {
        Fail("state of condition " + rest.substr(0, space) + ": " + why);
      }
    } catch (const json::exception& e) {
      Fail(std::string("bad JSON in expect-state: ") + e.what());
    }
  }

  void SetState(const std::string& rest) {
    if (!NeedTrigger()) return;
    size_t space = rest.find(' ');
    const ConditionDefinition* c = ConditionNumber(rest.substr(0, space));
    if (c == nullptr) return;
    states_[c->id] = space == std::string::npos ? "" : rest.substr(space + 1);
  }

  std::string path_;
  int line_ = 0;
  int expectations_ = 0;
  std::vector<std::string> failures_;

  bool in_trigger_ = false;
  TriggerDefinition trigger_;
  std::shared_ptr<const TriggerIndex> index_;
  StoredStates states_;
  int event_seq_ = 0;

  std::optional<ConditionDefinition> pending_condition_;
  int pending_line_ = 0;
  bool pending_invalid_ = false;
  bool pending_reported_ = true;
  FieldErrors pending_errors_;

  Seen last_ = Seen::kNone;
  bool outcome_checked_ = false;
  int event_line_ = 0;
  std::string last_error_;
};

std::string DataDir() { return std::string(AURI_SOURCE_DIR) + "/tests/data/conditions"; }

std::vector<std::string> TestFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(DataDir(), ec)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ConditionDataTest, EveryFileInTestsDataConditionsPasses) {
  std::vector<std::string> files = TestFiles();
  ASSERT_GE(files.size(), 8u) << "expected the condition test files in " << DataDir();
  int expectations = 0;
  for (const std::string& file : files) {
    ConditionFileRunner runner(file);
    for (const std::string& failure : runner.Run()) ADD_FAILURE() << failure;
    expectations += runner.expectations();
  }
  std::printf("[ conditions ] %zu files, %d expectations\n", files.size(), expectations);
}

class TempTestFile {
 public:
  explicit TempTestFile(const std::string& content) {
    path_ = (fs::temp_directory_path() / ("auri_condition_runner_" + std::to_string(::getpid()) +
                                          "_" + std::to_string(counter_++) + ".test"))
                .string();
    std::ofstream(path_) << content;
  }
  ~TempTestFile() { fs::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(ConditionDataTest, RunnerReportsAWrongExpectationWithFileAndLine) {
  TempTestFile file(
      "trigger\n"
      "condition score_threshold op=> value=50\n"
      "event {\"score\": 80}\n"
      "expect nomatch\n");  // wrong: 80 > 50 matches
  std::vector<std::string> failures = ConditionFileRunner(file.path()).Run();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], file.path() + ":4: expected nomatch, got match");
}

TEST(ConditionDataTest, RunnerReportsAWrongStateExpectation) {
  TempTestFile file(
      "trigger stateful=true\n"
      "condition ema_threshold op=> value=0 config={\"window_size\": 3}\n"
      "event {\"score\": 80}\n"
      "expect-state 1 {\"ema\": 81}\n");
  std::vector<std::string> failures = ConditionFileRunner(file.path()).Run();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find(file.path() + ":4: state of condition 1: \"ema\": expected 81"),
            std::string::npos)
      << failures[0];
}

TEST(ConditionDataTest, RunnerFailsAFileWithoutExpectations) {
  TempTestFile file("trigger\nevent {}\n");
  std::vector<std::string> failures = ConditionFileRunner(file.path()).Run();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("no expectations"), std::string::npos);
}

TEST(ConditionDataTest, RunnerReportsAnInvalidConditionAndAnUnknownDirective) {
  TempTestFile file(
      "trigger\n"
      "condition score_threshold op=>> value=50\n"
      "frobnicate\n"
      "event {\"score\": 80}\n"
      "expect match\n");
  std::vector<std::string> failures = ConditionFileRunner(file.path()).Run();
  ASSERT_GE(failures.size(), 2u);
  EXPECT_NE(failures[0].find(":2: condition does not validate: operator"), std::string::npos)
      << failures[0];
  EXPECT_NE(failures[1].find(":3: unknown directive \"frobnicate\""), std::string::npos)
      << failures[1];
}

}  // namespace
}  // namespace auri::pipeline
