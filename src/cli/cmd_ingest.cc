// `auri ingest FILE.jsonl`: streams a newline-delimited JSON file of events to the running
// gateway's POST /api/v1/events in batches, with the ingest token from the secret store.
//
// Each batch is validated locally first (the same pipeline::ValidateEvent the gateway runs), so bad
// input is reported with file line numbers before anything of that batch is sent; errors the
// gateway reports anyway ("events[3].score") are mapped back to lines too. Batches sent before a
// bad one stay committed; re-running the command is safe because the gateway counts repeated ids as
// duplicates instead of storing them twice.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/context.h"
#include "cli/exit_codes.h"
#include "common/clock.h"
#include "pipeline/event.h"
#include "pipeline/jsonl_reader.h"
#include "secrets/secret_store.h"

namespace auri {
namespace {

constexpr long kRequestTimeoutSeconds = 60;  // per batch, connect included
constexpr long kConnectTimeoutSeconds = 5;

struct HttpReply {
  long status = 0;
  std::string body;
};

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  // A reply larger than this is not one of ours; stop reading (curl reports a write error).
  if (body->size() + size * count > (size_t{1} << 20)) return 0;
  body->append(data, size * count);
  return size * count;
}

// POSTs `body` as JSON. Errors: kUnavailable when the gateway cannot be reached or the request
// timed out (the message names the URL, never the token).
Result<HttpReply> PostJson(const std::string& url, const std::string& token,
                           const std::string& body) {
  CURL* curl = curl_easy_init();
  if (!curl) return Internal("curl_easy_init failed");
  HttpReply reply;
  std::string auth = "Authorization: Bearer " + token;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, kRequestTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return Unavailable("cannot reach the gateway at " + url + ": " + curl_easy_strerror(rc),
                       "start the stack with `auri up` or pass --url");
  }
  return reply;
}

std::string ErrorLines(const pipeline::FieldErrors& errors) {
  std::string out;
  for (const pipeline::FieldError& e : errors) out += "  " + e.field + ": " + e.message + "\n";
  return out;
}

struct Totals {
  int64_t lines = 0;
  int64_t accepted = 0;
  int64_t duplicates = 0;
};

void PrintProgress(const Totals& t, std::chrono::steady_clock::time_point start) {
  double elapsed = SecondsSince(start);
  std::fprintf(stderr, "lines %lld, accepted %lld, duplicates %lld, %.1f s, %.0f lines/s\n",
               static_cast<long long>(t.lines), static_cast<long long>(t.accepted),
               static_cast<long long>(t.duplicates), elapsed,
               elapsed > 0 ? static_cast<double>(t.lines) / elapsed : 0.0);
}

}  // namespace

int RunIngest(const CliContext& ctx, const IngestOptions& options) {
  if (options.batch < 1 || options.batch > static_cast<int>(pipeline::kMaxEventsPerBatch)) {
    return ReportFailure(InvalidArgument("--batch must be between 1 and " +
                                         std::to_string(pipeline::kMaxEventsPerBatch)));
  }
  std::ifstream file(options.file, std::ios::binary);
  if (!file) {
    return ReportFailure(InvalidArgument("cannot open " + options.file, "check the path"));
  }
  std::string url = options.url.empty() ? ctx.config.ApiBaseUrl() : options.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  constexpr std::string_view kPath = "/api/v1/events";
  if (url.size() < kPath.size() || url.compare(url.size() - kPath.size(), kPath.size(), kPath)) {
    url += kPath;
  }

  auto store = OpenSecretStore(ctx.config);
  if (!store.ok()) return ReportFailure(store.status());
  auto token = store->Get("ingest-token");
  if (!token.ok()) return ReportFailure(token.status());

  curl_global_init(CURL_GLOBAL_DEFAULT);
  pipeline::JsonlReader reader(&file);
  Totals totals;
  auto start = std::chrono::steady_clock::now();
  std::string line;
  int64_t line_number = 0;
  bool done = false;
  Status failure = Status::Ok();
  while (!done && failure.ok()) {
    // One batch: lines and their numbers, validated locally.
    std::vector<int64_t> line_numbers;
    std::string body = "{\"events\":[";
    pipeline::FieldErrors errors;
    while (line_numbers.size() < static_cast<size_t>(options.batch)) {
      Result<bool> more = reader.Next(&line, &line_number);
      if (!more.ok()) {
        failure = more.status();
        break;
      }
      if (!*more) {
        done = true;
        break;
      }
      ++totals.lines;
      pipeline::FieldErrors line_errors;
      if (!pipeline::ValidateEvent(line, &line_errors).ok()) {
        for (pipeline::FieldError& e : line_errors) {
          errors.push_back({"line " + std::to_string(line_number) + ": " + e.field, e.message});
        }
      }
      if (!line_numbers.empty()) body += ',';
      body += line;
      line_numbers.push_back(line_number);
    }
    if (!failure.ok()) break;
    if (!errors.empty()) {
      std::fprintf(stderr, "invalid events:\n%s", ErrorLines(errors).c_str());
      failure = InvalidArgument("invalid events in " + options.file +
                                    "; nothing of this batch "
                                    "was sent (earlier batches were stored)",
                                "fix the lines above and run again: stored events are counted "
                                "as duplicates, not stored twice");
      break;
    }
    if (line_numbers.empty()) break;
    body += "]}";

    Result<HttpReply> reply = PostJson(url, token->value.reveal(), body);
    if (!reply.ok()) {
      failure = reply.status();
      break;
    }
    nlohmann::json parsed = nlohmann::json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
    if (reply->status == 202 && parsed.is_object()) {
      totals.accepted += parsed.value("accepted", int64_t{0});
      totals.duplicates += parsed.value("duplicates", int64_t{0});
      if (!ctx.json) PrintProgress(totals, start);
      continue;
    }
    std::string code = parsed.is_object() ? parsed.value("error", std::string()) : "";
    std::string message = parsed.is_object() ? parsed.value("message", std::string()) : "";
    if (reply->status == 400 && parsed.contains("details") &&
        parsed["details"].contains("fields") && parsed["details"]["fields"].is_object()) {
      pipeline::FieldErrors server_errors;
      for (auto& [field, text] : parsed["details"]["fields"].items()) {
        server_errors.push_back({field, text.is_string() ? text.get<std::string>() : text.dump()});
      }
      std::fprintf(
          stderr, "the gateway rejected the batch:\n%s",
          ErrorLines(pipeline::MapBatchErrorsToLines(server_errors, line_numbers)).c_str());
      failure = InvalidArgument("invalid events in " + options.file);
    } else if (reply->status == 401) {
      failure = Unauthenticated("the gateway rejected the ingest token (" + code + ")",
                                "is the gateway using the same secret store (home directory)?");
    } else if (reply->status == 503 || reply->status == 502 || reply->status == 504) {
      failure = Unavailable("the gateway answered " + std::to_string(reply->status) + " " + code +
                                (message.empty() ? "" : ": " + message),
                            "check `auri status`; re-run to resume (stored events count as "
                            "duplicates)");
    } else {
      failure = Internal("the gateway answered " + std::to_string(reply->status) + " " + code +
                         (message.empty() ? "" : ": " + message));
    }
  }
  curl_global_cleanup();

  double elapsed = SecondsSince(start);
  if (ctx.json) {
    nlohmann::json summary = {{"file", options.file},        {"lines", totals.lines},
                              {"accepted", totals.accepted}, {"duplicates", totals.duplicates},
                              {"elapsed_seconds", elapsed},  {"ok", failure.ok()}};
    if (!failure.ok()) summary["error"] = failure.message();
    std::printf("%s\n", summary.dump(2).c_str());
  } else {
    std::printf("%s: %lld lines, %lld accepted, %lld duplicates in %.1f s (%.0f lines/s)\n",
                failure.ok() ? "done" : "stopped", static_cast<long long>(totals.lines),
                static_cast<long long>(totals.accepted), static_cast<long long>(totals.duplicates),
                elapsed, elapsed > 0 ? static_cast<double>(totals.lines) / elapsed : 0.0);
  }
  return failure.ok() ? kExitOk : ReportFailure(failure);
}

}  // namespace auri
