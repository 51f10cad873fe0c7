#pragma once
// TriggerCache: the gateway's bounded, invalidated in-process cache of GET /api/v1/triggers/{id}
// answers (the serialized response body), keyed by trigger id, so that repeated reads of a
// trigger do not go to PostgreSQL.
//
// Authorization is never cached: an entry records the trigger's organization, and the handler
// serves it only to a caller whose organization scope (resolved and checked as for any request)
// is that organization; anyone else takes the database path (and gets 404 there).
//
// Freshness (docs/decisions.md, "Trigger read cache"):
//   * writes through this gateway call Forget before answering (read-your-writes);
//   * writes elsewhere (SQL, another replica, cascades) arrive as NOTIFY trigger_changed, which
//     TriggerCacheInvalidator turns into Forget / ForgetAll;
//   * every entry expires after `ttl` whatever happens (a missed notification costs at most that);
//   * the cache serves and stores nothing while not Active (the invalidator sets it active only
//     while its LISTEN connection is up, and clears it when that connection drops or reconnects).
//
// A read that overlapped any invalidation is answered but not stored: the caller takes
// Generation() before reading the database and passes it to Store, which refuses it if anything
// was forgotten since (the read may predate the change).
//
// Thread-safe. A ttl of zero disables the cache (Find finds nothing, Store stores nothing).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace auri::api {

class TriggerCache {
 public:
  struct Options {
    std::chrono::milliseconds ttl{1000};
    // Bounds on the entries and on the sum of their body sizes: beyond either, the oldest
    // entries are evicted first.
    size_t max_entries = 10000;
    size_t max_bytes = 64u << 20;
  };

  struct Entry {
    std::string organization_id;  // lower-case UUID
    std::string body;             // the serialized 200 response body
  };

  // `clock` is not owned and must outlive this. The cache starts inactive (see SetActive).
  TriggerCache(const Clock* clock, Options options);

  bool enabled() const { return options_.ttl.count() > 0; }

  // The fresh entry of `trigger_id` (any case), or null. Entries are immutable, so the returned
  // pointer stays valid and unchanged after a Forget.
  std::shared_ptr<const Entry> Find(const std::string& trigger_id);

  // The current invalidation generation; take it BEFORE reading what will be stored.
  uint64_t Generation();

  // Stores `body` for `trigger_id` of `organization_id`, unless the cache is disabled or inactive
  // or an invalidation happened since `generation`. A body larger than max_bytes is not stored.
  void Store(const std::string& trigger_id, const std::string& organization_id, std::string body,
             uint64_t generation);

  // Drops the entry of `trigger_id` (after a change of the trigger, its conditions or actions).
  void Forget(const std::string& trigger_id);
  // Drops every entry (a change whose trigger is unknown, lost notifications, organization gone).
  void ForgetAll();

  // Active: notifications are being received, so entries may be served. Both transitions clear
  // the cache (going inactive: notifications will be missed; going active: some may have been).
  void SetActive(bool active);

  bool active();
  size_t size();

 private:
  struct Slot {
    std::string trigger_id;
    std::shared_ptr<const Entry> entry;
    std::chrono::steady_clock::time_point expires;
  };
  using Slots = std::list<Slot>;  // insertion order: the front is evicted first

  void EraseLocked(Slots::iterator it);
  void ClearLocked();

  const Clock* clock_;
  Options options_;
  std::mutex mu_;
  bool active_ = false;
  uint64_t generation_ = 0;
  size_t bytes_ = 0;
  Slots slots_;
  std::unordered_map<std::string, Slots::iterator> index_;  // lower-case trigger id → slot
};

}  // namespace auri::api
