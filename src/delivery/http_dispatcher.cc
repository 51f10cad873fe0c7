#include "delivery/http_dispatcher.h"

#include <curl/curl.h>

#include <cctype>
#include <map>
#include <mutex>

namespace auri::delivery {

namespace {

// curl_global_init is not thread-safe; do it once, before any handle exists.
void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpRequest request;
  HttpDispatcher::Done done;
  HttpResult result;
  curl_slist* headers = nullptr;
  curl_slist* resolve = nullptr;
  std::chrono::steady_clock::time_point started;
  bool truncated = false;  // we stopped reading at kMaxResponseBytes on purpose
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  size_t room = kMaxResponseBytes - t->result.body.size();
  if (bytes > room) {
    // Stop reading: a receiver cannot make us buffer more than 64 KiB. Returning less than
    // `bytes` aborts the transfer; the status line was already received.
    t->result.body.append(data, room);
    t->truncated = true;
    return 0;
  }
  t->result.body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) {
        match = false;
        break;
      }
    }
    if (match) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
        v.remove_suffix(1);
      t->result.retry_after = std::string(v.substr(0, 128));
    }
  }
  return size * n;
}

}  // namespace

struct HttpDispatcher::State {
  CURLM* multi = nullptr;
  std::map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::map<std::string, int> per_host;
};

HttpDispatcher::HttpDispatcher() : state_(std::make_unique<State>()) {
  GlobalInitOnce();
  state_->multi = curl_multi_init();
  // Keep idle connections for reuse: by default the cache follows the number of transfers in
  // flight, so connections were closed between bursts and reopened (a TCP handshake and an
  // accept per request on a busy receiver).
  curl_multi_setopt(state_->multi, CURLMOPT_MAXCONNECTS, kMaxIdleConnections);
}

HttpDispatcher::~HttpDispatcher() {
  for (auto& [easy, t] : state_->transfers) {
    curl_multi_remove_handle(state_->multi, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->resolve);
  }
  curl_multi_cleanup(state_->multi);
}

void HttpDispatcher::Add(HttpRequest request, Done done) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  t->started = std::chrono::steady_clock::now();
  const HttpRequest& r = t->request;
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect could lead anywhere
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(r.total_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (r.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "DELETE" && r.body.empty()) {
    // no body
  } else {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body.size()));
  }
  if (!r.address.empty()) {
    // Pin host:port to the checked address: libcurl then connects there without resolving
    // again, while TLS SNI and certificate checks still use the host name.
    bool v6 = r.address.find(':') != std::string::npos;
    std::string entry =
        r.host + ":" + std::to_string(r.port) + ":" + (v6 ? "[" + r.address + "]" : r.address);
    t->resolve = curl_slist_append(nullptr, entry.c_str());
    curl_easy_setopt(easy, CURLOPT_RESOLVE, t->resolve);
  }
  for (const auto& [name, value] : r.headers) {
    t->headers = curl_slist_append(t->headers, (name + ": " + value).c_str());
  }
  t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t.get());
  state_->per_host[r.host]++;
  state_->transfers.emplace(easy, std::move(t));
  curl_multi_add_handle(state_->multi, easy);
}

void HttpDispatcher::Poll(std::chrono::milliseconds wait) {
  int running = 0;
  curl_multi_perform(state_->multi, &running);
  int numfds = 0;
  curl_multi_poll(state_->multi, nullptr, 0, static_cast<int>(wait.count()), &numfds);
  curl_multi_perform(state_->multi, &running);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(state_->multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode code = msg->data.result;
    auto it = state_->transfers.find(easy);
    if (it == state_->transfers.end()) continue;
    std::unique_ptr<Transfer> t = std::move(it->second);
    state_->transfers.erase(it);
    curl_multi_remove_handle(state_->multi, easy);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    t->result.status = static_cast<int>(status);
    if (code == CURLE_OK || (t->truncated && status > 0)) {
      t->result.transport_ok = status > 0;
      if (status == 0) t->result.error = "no HTTP response";
    } else {
      t->result.transport_ok = false;
      t->result.timed_out = code == CURLE_OPERATION_TIMEDOUT;
      t->result.error = curl_easy_strerror(code);
    }
    t->result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t->started);
    curl_easy_cleanup(easy);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->resolve);
    if (--state_->per_host[t->request.host] <= 0) state_->per_host.erase(t->request.host);
    t->done(std::move(t->result));
  }
}

void HttpDispatcher::Wakeup() { curl_multi_wakeup(state_->multi); }

int HttpDispatcher::in_flight() const { return static_cast<int>(state_->transfers.size()); }

int HttpDispatcher::in_flight_to(const std::string& host) const {
  auto it = state_->per_host.find(host);
  return it == state_->per_host.end() ? 0 : it->second;
}

}  // namespace auri::delivery
