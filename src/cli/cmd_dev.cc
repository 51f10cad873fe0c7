// `auri dev webhook-receiver [--port N]`: a local webhook sink for trying Auri by hand. Prints each
// request it receives (request line, the Auri and Standard Webhooks headers, the body) and answers
// 200, until Ctrl-C.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include "cli/context.h"
#include "cli/exit_codes.h"
#include "dr/checklist/webhook_receiver.h"

namespace auri {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

// The headers worth showing: the signature, the ids, the content type.
std::string InterestingHeaders(const std::string& block) {
  std::istringstream in(block);
  std::string line, out;
  while (std::getline(in, line)) {
    std::string lower = line;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.rfind("webhook-", 0) == 0 || lower.rfind("x-auri-", 0) == 0 ||
        lower.rfind("idempotency-key", 0) == 0 || lower.rfind("content-type", 0) == 0) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out += "  " + line + "\n";
    }
  }
  return out;
}

}  // namespace

int RunDevWebhookReceiver(const CliContext& ctx, int port) {
  dr::WebhookReceiver receiver;
  Status started = receiver.Start(port);
  if (!started.ok()) return ReportFailure(started);
  std::printf(
      "listening on http://127.0.0.1:%d/ — every request is printed and answered 200 "
      "(Ctrl-C to stop)\n",
      receiver.port());
  std::fflush(stdout);
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  size_t shown = 0;
  while (!g_stop) {
    for (const dr::ReceivedRequest& r : receiver.Since(shown)) {
      std::printf("%s\n%s  %s\n\n", r.request_line.c_str(), InterestingHeaders(r.headers).c_str(),
                  r.body.c_str());
      ++shown;
    }
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  receiver.Stop();
  return kExitOk;
}

}  // namespace auri
