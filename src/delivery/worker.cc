#include "delivery/worker.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "delivery/action_config.h"
#include "delivery/http_dispatcher.h"
#include "delivery/render.h"
#include "delivery/retry_policy.h"
#include "delivery/ssrf_guard.h"
#include "delivery/webhook_executor.h"
#include "store/job_repository.h"

namespace auri::delivery {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Record threads (each with its own database connection).
constexpr int kRecordThreads = 2;
// A record thread that finds fewer than kRecordBatch outcomes waits up to kRecordLinger for more:
// PostgreSQL's cost per job falls with the batch (bench/delivery_sql.sh: 165 us per job in batches
// of 25, 130-149 us in batches of 200), and the delay only postpones the outcome row, never a
// request.
constexpr size_t kRecordBatch = 200;
constexpr milliseconds kRecordLinger{10};

double SecondsSince(steady_clock::time_point t0) {
  return std::chrono::duration<double>(steady_clock::now() - t0).count();
}

// A job ready to send, waiting for room under its host's cap or for a Telegram rate-limit slot.
struct Ready {
  ClaimedJob job;
  HttpRequest request;
  std::vector<int> expected;  // webhook expected_status_codes
  std::string telegram_chat;  // non-empty for telegram jobs
  steady_clock::time_point not_before{};
};

// A finished attempt, handed from the HTTP loop to the store thread.
struct Completion {
  ClaimedJob job;
  AttemptOutcome outcome;
  milliseconds duration{0};
};

}  // namespace

// Four threads share the work (see docs/decisions.md, "Action delivery"): the HTTP loop (the
// thread calling Run) only moves requests through curl multi; the claim thread claims due jobs
// and prepares them (render, sign, SSRF lookup) while the loop has room; the record thread writes
// the outcomes in batches (two of them, so one batch is written while the next collects). So a
// database round trip never stalls requests in flight, and claims and outcome writes run side by
// side on their own connections. They hand jobs over under `mu`:
// `inbox` (prepared requests, claim → loop) and `outbox` (finished attempts, loop and claim →
// record).
struct Worker::State {
  WorkerOptions options;
  WorkerDeps deps;
  HttpDispatcher http;
  std::atomic<int> in_flight{0};

  // Shared, under mu.
  std::mutex mu;
  std::condition_variable claim_wakeup;   // a NOTIFY, outcomes written (room), or stop
  std::condition_variable record_wakeup;  // outbox filled, or stop
  std::deque<Ready> inbox;
  std::vector<Completion> outbox;
  bool notified = false;  // a NOTIFY action_job arrived since the claim thread looked
  bool stopping = false;  // the HTTP loop is done: claim no more, write what is left
  // The jobs this worker holds leases on, in two stages. `unsent`: claimed and not yet finished
  // over HTTP (being prepared, waiting, in flight); `unrecorded`: finished, outcome not yet
  // written (outbox, being written). Claims keep each at most MaxStage(), so a worker never holds
  // more leases than it can work on: if outcome writes fall behind, claiming waits for them
  // (without a bound, leases piled up until they expired and the jobs were delivered twice).
  // Two bounds rather than one over both stages: with one, a batch of outcomes being written
  // kept the claim thread from refilling the HTTP loop, which then ran dry (bench/e2e.sh).
  std::atomic<int> unsent{0};
  std::atomic<int> unrecorded{0};

  // HTTP loop only.
  std::deque<Ready> waiting;
  std::vector<Completion> completed;  // filled by the dispatcher's callbacks during Poll

  // Claim thread only.
  ActionConfigCache configs;  // parsed config snapshots, by text
  std::vector<Ready> prepared;
  std::vector<Completion> settled;  // jobs that ended in Prepare

  CounterFamily* claimed = nullptr;
  CounterFamily* succeeded = nullptr;
  CounterFamily* failed = nullptr;  // attempts that failed and will be retried
  CounterFamily* dead = nullptr;
  HistogramFamily* attempts = nullptr;
  HistogramFamily* latency = nullptr;
  HistogramFamily* store_seconds = nullptr;  // by step of the store thread

  void RegisterMetrics() {
    MetricsRegistry* m = deps.metrics;
    claimed = m->AddCounter("auri_delivery_jobs_claimed_total", "Jobs claimed.", {"type"});
    succeeded = m->AddCounter("auri_delivery_jobs_succeeded_total", "Jobs delivered.", {"type"});
    failed = m->AddCounter("auri_delivery_attempts_failed_total",
                           "Failed attempts that will be retried.", {"type"});
    dead = m->AddCounter("auri_delivery_jobs_dead_total", "Jobs moved to dead letters.", {"type"});
    attempts = m->AddHistogram("auri_delivery_attempts", "Attempts per finished job.", {"type"},
                               {1, 2, 3, 4, 5, 10});
    latency = m->AddHistogram("auri_delivery_latency_seconds",
                              "Job created to delivered (successful jobs).", {"type"},
                              {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600});
    store_seconds = m->AddHistogram(
        "auri_delivery_store_step_seconds",
        "Duration of each step of the store thread: claim (one batch), prepare (render, sign, "
        "SSRF check of one batch), finish and reschedule (one batch of outcomes).",
        {"step"}, {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
    m->AddGauge("auri_delivery_in_flight", "Requests in flight in this process.",
                [this] { return static_cast<double>(in_flight.load()); });
  }

  // Outcomes a record thread decided since its last Flush(), written in one transaction each
  // (the rate of delivery must not be bounded by one commit per job).
  struct Finished {
    FinishedJob row;
    std::string action_type;
    int64_t created_at_ms = 0;
  };
  struct Retrying {
    RetryingJob row;
    std::string action_type;
  };
  struct Recording {
    std::vector<Finished> finished;
    std::vector<Retrying> retrying;
    std::mt19937_64 rng{std::random_device{}()};
    double Jitter() { return std::uniform_real_distribution<double>(-1.0, 1.0)(rng); }
  };

  // Records the end of one attempt: success, retry or dead (with its result row), written by the
  // next Flush().
  void Complete(Recording& rec, const ClaimedJob& job, const AttemptOutcome& outcome,
                milliseconds duration) {
    int attempt = job.attempts + 1;
    int max_attempts = std::min(job.max_attempts, options.max_attempts);
    std::optional<int> code = outcome.status_code;
    if (outcome.failure != AttemptFailure::kNone) {
      int status = code.value_or(0);
      RetryDecision d = DecideRetry(outcome.failure, status, attempt, max_attempts, rec.Jitter(),
                                    outcome.retry_after);
      if (d.retry) {
        rec.retrying.push_back({{job.id, attempt, d.delay, outcome.error, code}, job.action_type});
        return;
      }
    }
    Finished f;
    f.row.job_id = job.id;
    JobOutcome& o = f.row.outcome;
    o.success = outcome.failure == AttemptFailure::kNone;
    o.attempts = attempt;
    o.duration_ms = duration.count();
    o.status_code = code;
    o.error = outcome.error;
    o.response_excerpt = outcome.response_excerpt;
    f.action_type = job.action_type;
    f.created_at_ms = job.created_at_ms;
    rec.finished.push_back(std::move(f));
  }

  // Writes the outcomes Complete() collected. A failed write is logged and dropped: the jobs stay
  // leased, their leases expire and they run again (at least once).
  void Flush(Recording& rec) {
    std::vector<Finished>& finished = rec.finished;
    std::vector<Retrying>& retrying = rec.retrying;
    const Logger& log = *deps.logger;
    if (!retrying.empty()) {
      std::vector<RetryingJob> rows;
      rows.reserve(retrying.size());
      for (const Retrying& r : retrying) rows.push_back(r.row);
      auto t0 = steady_clock::now();
      auto r = RescheduleJobs(*deps.pool, options.owner, rows, options.db_timeout);
      store_seconds->Observe({"reschedule"}, SecondsSince(t0));
      if (!r.ok()) {
        log.Warn("could not reschedule jobs; their leases will expire and they are retried then",
                 {{"jobs", int64_t(rows.size())}, {"error", r.status().ToString()}});
      }
      for (const Retrying& j : retrying) {
        failed->Inc({j.action_type});
        log.Info("delivery attempt failed; retrying", {{"job_id", j.row.job_id},
                                                       {"attempt", j.row.attempts},
                                                       {"delay_ms", int64_t(j.row.delay.count())},
                                                       {"error", j.row.error}});
      }
      retrying.clear();
    }
    if (finished.empty()) return;
    std::vector<FinishedJob> rows;
    rows.reserve(finished.size());
    for (const Finished& f : finished) rows.push_back(f.row);
    auto t0 = steady_clock::now();
    auto r = FinishJobs(*deps.pool, options.owner, rows, options.db_timeout);
    store_seconds->Observe({"finish"}, SecondsSince(t0));
    if (!r.ok()) {
      log.Warn("could not record the jobs' outcomes; their leases will expire and they run again",
               {{"jobs", int64_t(rows.size())}, {"error", r.status().ToString()}});
      finished.clear();
      return;
    }
    int64_t now_ms = UnixMillisNow();
    for (const Finished& f : finished) {
      const JobOutcome& o = f.row.outcome;
      attempts->Observe({f.action_type}, o.attempts);
      if (o.success) {
        succeeded->Inc({f.action_type});
        latency->Observe({f.action_type}, (now_ms - f.created_at_ms) / 1000.0);
      } else {
        dead->Inc({f.action_type});
        log.Warn("job is dead",
                 {{"job_id", f.row.job_id}, {"attempts", o.attempts}, {"error", o.error}});
      }
    }
    finished.clear();
  }

  // A job that ends without a request (config error, SSRF refusal...): its outcome goes to the
  // recorder with the attempts that finished over HTTP. Claim thread.
  void Permanent(ClaimedJob& job, const Status& why) {
    AttemptOutcome o;
    o.failure = AttemptFailure::kPermanent;
    o.error = why.message();
    settled.push_back({std::move(job), std::move(o), milliseconds(0)});
  }

  // Renders and checks one claimed job; adds it to `prepared`, or to `settled` when it cannot run.
  // Claim thread.
  void Prepare(ClaimedJob job) {
    claimed->Inc({job.action_type});
    Ready ready;
    // The config snapshot is parsed by the same parser that accepted it when the action was
    // saved, once per distinct text (`configs`); unknown placeholder names render empty (spec:
    // rejected when saved, not when run).
    std::optional<ActionType> type = ParseActionType(job.action_type);
    const Result<WebhookConfig>* webhook =
        type == ActionType::kWebhook ? &configs.Webhook(job.config) : nullptr;
    // One parse of the event snapshot gives the values and, when the webhook sends the default
    // body, that body.
    bool default_body_wanted = webhook != nullptr && webhook->ok() && !(*webhook)->body_json;
    std::string default_body;
    auto values = ValuesFromEvent(job.event_data, job.trigger_id, job.trigger_name,
                                  default_body_wanted ? &default_body : nullptr);
    if (!values.ok()) return Permanent(job, values.status());
    if (!type) return Permanent(job, InvalidArgument("unknown action type " + job.action_type));
    if (*type == ActionType::kTelegram) {
      const Result<TelegramConfig>& config = configs.Telegram(job.config);
      if (!config.ok()) return Permanent(job, config.status());
      auto token = deps.telegram_token();
      if (!token.ok()) {
        return Permanent(
            job, FailedPrecondition("telegram bot token is not set (secret telegram-bot-token): " +
                                    token.status().message()));
      }
      auto request = BuildTelegramRequest(*config, *values, options.telegram_api_base, *token);
      if (!request.ok()) return Permanent(job, request.status());
      ready.request = std::move(request).value();
      ready.telegram_chat = config->chat_id;
    } else {
      const Result<WebhookConfig>& config = *webhook;
      if (!config.ok()) return Permanent(job, config.status());
      auto keys = deps.signing_keys();
      if (!keys.ok()) return Permanent(job, keys.status());
      WebhookContext ctx;
      ctx.job_id = job.id;
      ctx.event_id = job.event_id;
      ctx.trigger_id = job.trigger_id;
      // ctx.event_json stays empty: the body is the default body built above or a body template,
      // which does not read it.
      ctx.default_body = default_body_wanted ? &default_body : nullptr;
      ctx.values = &values.value();
      ctx.signing_keys = std::move(keys).value();
      ctx.timestamp = UnixMillisNow() / 1000;
      ctx.user_agent = options.user_agent;
      auto request = BuildWebhookRequest(*config, ctx);
      if (!request.ok()) return Permanent(job, request.status());
      ready.request = std::move(request).value();
      ready.expected = config->expected_status_codes;
      // SSRF: resolve once, check every address, pin the connection to the checked one.
      ParsedUrl url{ready.request.url.substr(0, ready.request.url.find(':')), ready.request.host,
                    ready.request.port};
      auto dest = CheckDestination(url, options.private_destinations);
      if (!dest.ok()) {
        if (dest.status().code() == StatusCode::kUnavailable) {
          AttemptOutcome o;
          o.failure = AttemptFailure::kConnection;  // DNS failure: may be transient
          o.error = dest.status().message();
          settled.push_back({std::move(job), std::move(o), milliseconds(0)});
          return;
        }
        return Permanent(job, dest.status());
      }
      ready.request.address = dest->address;
    }
    ready.job = std::move(job);
    prepared.push_back(std::move(ready));
  }

  // Starts waiting requests whose host has room and whose rate-limit slot is free. HTTP loop.
  void StartReady() {
    auto now = steady_clock::now();
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (http.in_flight() >= options.concurrency) return;
      if (it->not_before > now ||
          http.in_flight_to(it->request.host) >= options.per_host_concurrency) {
        ++it;
        continue;
      }
      if (!it->telegram_chat.empty()) {
        milliseconds wait = deps.telegram_limiter->TryAcquire(it->telegram_chat, now);
        if (wait > milliseconds(0)) {
          it->not_before = now + wait;
          ++it;
          continue;
        }
      }
      Ready r = std::move(*it);
      it = waiting.erase(it);
      ++in_flight;
      ClaimedJob job = std::move(r.job);
      bool telegram = !r.telegram_chat.empty();
      std::vector<int> expected = std::move(r.expected);
      http.Add(std::move(r.request), [this, job = std::move(job), telegram,
                                      expected = std::move(expected)](HttpResult result) mutable {
        --in_flight;
        int64_t now_s = UnixMillisNow() / 1000;
        AttemptOutcome o = telegram ? ClassifyTelegramResult(result, now_s)
                                    : ClassifyHttpResult(result, expected, now_s);
        completed.push_back({std::move(job), std::move(o), result.duration});
      });
    }
  }

  // Up to `concurrency` requests in flight plus as many again being prepared or recorded, so
  // the HTTP loop does not idle while a batch of outcomes is written.
  int MaxStage() const { return 2 * options.concurrency; }

  // Moves `items` to the outbox, wakes the record thread, and the claim thread (room to send).
  void ToRecorder(std::vector<Completion>& items) {
    if (items.empty()) return;
    auto n = static_cast<int>(items.size());
    {
      std::lock_guard<std::mutex> lock(mu);
      for (Completion& c : items) outbox.push_back(std::move(c));
      unrecorded += n;
      unsent -= n;
    }
    items.clear();
    record_wakeup.notify_one();
    claim_wakeup.notify_one();
  }

  // The claim thread: claims and prepares jobs while both stages have room (woken by NOTIFY, when
  // requests finish or outcomes are written, or every poll_interval), reclaims
  // expired leases and purges old jobs. Returns when `stop` or `stopping` is set.
  void ClaimLoop(const std::atomic<bool>& stop) {
    const Logger& log = *deps.logger;
    const WorkerOptions& opt = options;
    auto now = steady_clock::now();
    auto next_claim = now;
    auto next_reclaim = now;
    auto next_purge = now + std::chrono::minutes(1);
    milliseconds reclaim_every = std::min<milliseconds>(opt.lease / 2, milliseconds(5000));
    bool claim_wanted = true;  // a NOTIFY (or a full batch) says jobs are due
    while (true) {
      int room = 0;
      {
        std::unique_lock<std::mutex> lock(mu);
        auto room_now = [&] {
          return unrecorded.load() >= MaxStage() ? 0 : MaxStage() - unsent.load();
        };
        auto deadline = std::min(next_reclaim, steady_clock::now() + milliseconds(100));
        if (room_now() > 0) deadline = std::min(deadline, claim_wanted ? now : next_claim);
        claim_wakeup.wait_until(lock, deadline, [&] {
          return stopping || stop.load() || ((notified || claim_wanted) && room_now() > 0);
        });
        if (stopping || stop.load()) return;
        if (notified) claim_wanted = true;
        notified = false;
        room = room_now();
      }
      now = steady_clock::now();
      if (now >= next_reclaim) {
        auto r = ReclaimExpiredLeases(*deps.pool, opt.db_timeout);
        if (r.ok() && *r > 0) log.Info("reclaimed expired leases", {{"jobs", *r}});
        next_reclaim = now + reclaim_every;
      }
      if (now >= next_purge) {
        auto r =
            PurgeOldJobs(*deps.pool, std::chrono::hours(24 * opt.retention_days), opt.db_timeout);
        if (r.ok() && *r > 0) log.Info("purged old jobs", {{"jobs", *r}});
        next_purge = now + std::chrono::hours(1);
      }
      // Claim only what can start soon: jobs parked locally would hold leases without progress.
      if (room <= 0 || (!claim_wanted && now < next_claim)) continue;
      int limit = std::min(room, 200);
      auto t0 = steady_clock::now();
      auto jobs = ClaimDueJobs(*deps.pool, opt.owner, limit, opt.lease, opt.db_timeout);
      store_seconds->Observe({"claim"}, SecondsSince(t0));
      if (!jobs.ok()) {
        log.Warn("could not claim jobs", {{"error", jobs.status().ToString()}});
        claim_wanted = false;
        next_claim = now + opt.poll_interval;
        continue;
      }
      unsent += static_cast<int>(jobs->size());
      // A full batch means more are probably due: claim again as soon as there is room.
      claim_wanted = static_cast<int>(jobs->size()) == limit;
      next_claim = now + opt.poll_interval;
      t0 = steady_clock::now();
      for (ClaimedJob& j : *jobs) Prepare(std::move(j));
      store_seconds->Observe({"prepare"}, SecondsSince(t0));
      if (!prepared.empty()) {
        {
          std::lock_guard<std::mutex> lock(mu);
          for (Ready& r : prepared) inbox.push_back(std::move(r));
        }
        prepared.clear();
        http.Wakeup();
      }
      ToRecorder(settled);
    }
  }

  // A record thread: writes the outcomes in the outbox, in batches, until `stopping` is set and
  // the outbox is empty. Two run side by side, so one batch is written while the next collects.
  void RecordLoop() {
    Recording rec;
    while (true) {
      std::vector<Completion> done;
      bool finishing = false;
      {
        std::unique_lock<std::mutex> lock(mu);
        record_wakeup.wait(lock, [&] { return stopping || !outbox.empty(); });
        record_wakeup.wait_until(lock, steady_clock::now() + kRecordLinger,
                                 [&] { return stopping || outbox.size() >= kRecordBatch; });
        if (outbox.empty() && !stopping) continue;  // the other record thread took them
        done.swap(outbox);
        finishing = stopping;
      }
      for (Completion& c : done) Complete(rec, c.job, c.outcome, c.duration);
      Flush(rec);
      if (!done.empty()) {
        unrecorded -= static_cast<int>(done.size());
        claim_wakeup.notify_one();
      }
      if (finishing && done.empty()) return;
    }
  }

  // Hands the attempts finished during the last Poll to the record thread.
  void HandOverCompleted() { ToRecorder(completed); }
};

Worker::Worker(WorkerOptions options, WorkerDeps deps) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  state_->deps = std::move(deps);
  state_->RegisterMetrics();
}

Worker::~Worker() = default;

int Worker::in_flight() const { return state_->in_flight.load(); }

Status Worker::Run(const std::atomic<bool>& stop) {
  State& s = *state_;
  const WorkerOptions& opt = s.options;
  const Logger& log = *s.deps.logger;

  // The LISTEN connection blocks in its own thread; a notification wakes the claim thread.
  std::atomic<bool> listener_stop{false};
  std::thread listener([&] {
    JobNotificationListener l(*s.deps.pool);  // follows the pool across a switch
    while (!listener_stop.load()) {
      auto r = l.Wait(milliseconds(200));
      if (!r.ok()) {
        // Polling covers the gap; try to listen again a little later.
        for (int i = 0; i < 10 && !listener_stop.load(); ++i)
          std::this_thread::sleep_for(milliseconds(100));
        continue;
      }
      if (*r) {
        {
          std::lock_guard<std::mutex> lock(s.mu);
          s.notified = true;
        }
        s.claim_wakeup.notify_one();
      }
    }
  });
  std::thread claimer([&] { s.ClaimLoop(stop); });
  std::vector<std::thread> recorders;
  for (int i = 0; i < kRecordThreads; ++i) recorders.emplace_back([&] { s.RecordLoop(); });

  // The HTTP loop: take prepared requests, start what the caps allow, run transfers, hand back
  // what finished. Poll returns early when the store thread adds requests (Wakeup).
  while (!stop.load()) {
    {
      std::lock_guard<std::mutex> lock(s.mu);
      while (!s.inbox.empty()) {
        s.waiting.push_back(std::move(s.inbox.front()));
        s.inbox.pop_front();
      }
    }
    s.StartReady();
    s.http.Poll(milliseconds(100));
    s.HandOverCompleted();
  }

  // Graceful stop: no new claims; in-flight requests may finish; the rest go back to pending.
  auto grace_end = steady_clock::now() + opt.shutdown_grace;
  while (s.http.in_flight() > 0 && steady_clock::now() < grace_end) {
    s.http.Poll(milliseconds(50));
    s.HandOverCompleted();
  }
  // The claim thread sees `stop` and returns; only then are the record threads told to finish,
  // so every outcome (including jobs the claim thread settled at once) is written before they do.
  s.claim_wakeup.notify_one();
  claimer.join();
  s.HandOverCompleted();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stopping = true;
  }
  s.record_wakeup.notify_all();
  for (std::thread& t : recorders) t.join();
  listener_stop = true;
  listener.join();
  // Jobs still leased by this worker (waiting, prepared, or in flight past the grace period).
  auto released = ReleaseLeases(*s.deps.pool, opt.owner, opt.db_timeout);
  if (!released.ok()) return released.status().WithContext("releasing leases at shutdown");
  log.Info("action-workers stopped", {{"released_leases", *released}});
  return Status::Ok();
}

}  // namespace auri::delivery
