#include "delivery/http_dispatcher.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <map>
#include <mutex>
#include <optional>

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

// The multi handle runs in curl's socket mode (curl_multi_socket_action): curl tells which
// sockets to watch (OnSocket) and when it next needs a timeout call (OnTimer), and the loop waits
// on them with epoll. Only transfers whose socket is ready (or whose timer expired) are run; with
// curl_multi_perform every transfer in flight was run on each call, each checking its socket with
// a poll() of its own.
struct HttpDispatcher::State {
  CURLM* multi = nullptr;
  int epoll_fd = -1;
  int wakeup_fd = -1;  // an eventfd in the epoll set: Wakeup() writes it
  // When curl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT); nullopt: no timer.
  std::optional<std::chrono::steady_clock::time_point> timer;
  std::map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::map<std::string, int> per_host;
  std::vector<CURL*> idle_easy;  // finished handles kept for reuse (curl_easy_reset)

  static int OnSocket(CURL*, curl_socket_t s, int what, void* user, void*) {
    auto* st = static_cast<State*>(user);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(st->epoll_fd, EPOLL_CTL_DEL, s, nullptr);  // may already be gone with the fd
      return 0;
    }
    epoll_event ev{};
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev.events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev.events |= EPOLLOUT;
    ev.data.fd = s;
    if (epoll_ctl(st->epoll_fd, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT) {
      epoll_ctl(st->epoll_fd, EPOLL_CTL_ADD, s, &ev);
    }
    return 0;
  }

  static int OnTimer(CURLM*, long timeout_ms, void* user) {
    auto* st = static_cast<State*>(user);
    if (timeout_ms < 0) {
      st->timer.reset();
    } else {
      st->timer = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }
};

HttpDispatcher::HttpDispatcher() : state_(std::make_unique<State>()) {
  GlobalInitOnce();
  State& s = *state_;
  s.multi = curl_multi_init();
  // Keep idle connections for reuse: by default the cache follows the number of transfers in
  // flight, so connections were closed between bursts and reopened (a TCP handshake and an
  // accept per request on a busy receiver).
  curl_multi_setopt(s.multi, CURLMOPT_MAXCONNECTS, kMaxIdleConnections);
  s.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  s.wakeup_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = s.wakeup_fd;
  epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.wakeup_fd, &ev);
  curl_multi_setopt(s.multi, CURLMOPT_SOCKETFUNCTION, &State::OnSocket);
  curl_multi_setopt(s.multi, CURLMOPT_SOCKETDATA, &s);
  curl_multi_setopt(s.multi, CURLMOPT_TIMERFUNCTION, &State::OnTimer);
  curl_multi_setopt(s.multi, CURLMOPT_TIMERDATA, &s);
}

HttpDispatcher::~HttpDispatcher() {
  State& s = *state_;
  for (auto& [easy, t] : s.transfers) {
    curl_multi_remove_handle(s.multi, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->resolve);
  }
  for (CURL* easy : s.idle_easy) curl_easy_cleanup(easy);
  curl_multi_cleanup(s.multi);
  close(s.wakeup_fd);
  close(s.epoll_fd);
}

void HttpDispatcher::Add(HttpRequest request, Done done) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  t->started = std::chrono::steady_clock::now();
  const HttpRequest& r = t->request;
  CURL* easy = nullptr;
  if (!state_->idle_easy.empty()) {
    // A finished handle, its options back to the defaults (curl_easy_reset), so it behaves as a
    // new one; it keeps its buffers, which a new handle would allocate again.
    easy = state_->idle_easy.back();
    state_->idle_easy.pop_back();
  } else {
    easy = curl_easy_init();
  }
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
  std::string line;
  for (const auto& [name, value] : r.headers) {
    line.assign(name).append(": ").append(value);
    t->headers = curl_slist_append(t->headers, line.c_str());
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
  curl_multi_add_handle(state_->multi, easy);  // sets a timer of 0: started by the next Poll
}

void HttpDispatcher::Poll(std::chrono::milliseconds wait) {
  State& s = *state_;
  using std::chrono::steady_clock;
  auto now = steady_clock::now();
  long wait_ms = static_cast<long>(wait.count());
  if (s.timer) {
    auto until = std::chrono::ceil<std::chrono::milliseconds>(*s.timer - now).count();
    wait_ms = std::clamp<long>(until, 0, wait_ms);
  }
  epoll_event events[64];
  int n = epoll_wait(s.epoll_fd, events, 64, static_cast<int>(wait_ms));
  int running = 0;
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == s.wakeup_fd) {
      uint64_t count = 0;
      [[maybe_unused]] ssize_t got = read(s.wakeup_fd, &count, sizeof count);
      continue;
    }
    int mask = 0;
    if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
    if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
    if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
    curl_multi_socket_action(s.multi, fd, mask, &running);
  }
  // Expired timers: new transfers (a timer of 0), connect and total timeouts.
  if (s.timer && *s.timer <= steady_clock::now()) {
    s.timer.reset();
    curl_multi_socket_action(s.multi, CURL_SOCKET_TIMEOUT, 0, &running);
  }
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(s.multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode code = msg->data.result;
    auto it = s.transfers.find(easy);
    if (it == s.transfers.end()) continue;
    std::unique_ptr<Transfer> t = std::move(it->second);
    s.transfers.erase(it);
    curl_multi_remove_handle(s.multi, easy);
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
    t->result.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t->started);
    if (s.idle_easy.size() < kMaxIdleHandles) {
      curl_easy_reset(easy);
      s.idle_easy.push_back(easy);
    } else {
      curl_easy_cleanup(easy);
    }
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->resolve);
    if (--s.per_host[t->request.host] <= 0) s.per_host.erase(t->request.host);
    t->done(std::move(t->result));
  }
}

void HttpDispatcher::Wakeup() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t put = write(state_->wakeup_fd, &one, sizeof one);
}

int HttpDispatcher::in_flight() const { return static_cast<int>(state_->transfers.size()); }

int HttpDispatcher::in_flight_to(const std::string& host) const {
  auto it = state_->per_host.find(host);
  return it == state_->per_host.end() ? 0 : it->second;
}

}  // namespace auri::delivery
