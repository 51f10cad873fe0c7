#pragma once
// The normalized ERC-8004 event (spec 20-pipeline.md, "Event model") and its ingest validation.
//
// `Event` maps 1:1 to the columns of the `events` table (block_time and ingested_at excepted: the
// store derives block_time from `timestamp` and the database sets ingested_at). A field the event's
// type does not have is std::nullopt (NULL in the row).
//
// Validation takes JSON text, so callers (the API) never need nlohmann/json in their headers.
// It collects every error (field path → message) rather than stopping at the first. Rules:
//   * required: chain_id (> 0), block_number (≥ 0), transaction_hash, log_index (0..2^31−1, the
//     column is an integer), registry, event_type, agent_id (0..2^63−1), timestamp (block time,
//     unix seconds, 0..253402300799 = 9999-12-31). Integers must be JSON integers: floats,
//     strings, booleans and out-of-range values are errors naming the field.
//   * `id` may be omitted; when given it must equal `{registry}-{chain_id}-{tx_hash}-{log_index}`
//     (compared case-insensitively, since explorers publish mixed-case hashes). The stored id is
//     always the computed, lowercase one.
//   * registry ∈ identity | reputation | validation; event_type must belong to the registry.
//   * addresses `0x` + 40 hex, hashes `0x` + 64 hex, in any case; stored lowercase.
//     block_hash may be null or absent.
//   * tags (tag1, tag2, tag) ≤ 255 characters; an empty tag is stored as null.
//   * URIs ≤ 2048 characters; metadata_key 1..255; metadata_value ≤ 10,000 (characters are
//     Unicode code points, as PostgreSQL's char_length counts them).
//   * every string must be valid UTF-8 without NUL (PostgreSQL text cannot hold NUL).
//   * score and response 0..100; feedback_index ≥ 0.
//   * per-type fields are nullable (real events omit some, see the fixtures) and only the fields
//     of the event's own type are read: any other field, known or not, is ignored like an unknown
//     field, so the stored row never carries a field its type does not define.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "pipeline/field_error.h"

namespace auri::pipeline {

// Limits of spec 20-pipeline.md and 10-api.md.
inline constexpr size_t kMaxEventsPerBatch = 1000;

inline constexpr size_t kMaxTagChars = 255;
inline constexpr size_t kMaxUriChars = 2048;
inline constexpr size_t kMaxMetadataKeyChars = 255;
inline constexpr size_t kMaxMetadataValueChars = 10000;
inline constexpr int64_t kMaxEventTimestamp = 253402300799;  // 9999-12-31T23:59:59Z

struct Event {
  std::string id;  // {registry}-{chain_id}-{transaction_hash}-{log_index}
  int64_t chain_id = 0;
  int64_t block_number = 0;
  std::optional<std::string> block_hash;
  std::string transaction_hash;
  int32_t log_index = 0;
  std::string registry;
  std::string event_type;
  int64_t agent_id = 0;
  int64_t timestamp = 0;  // block time, unix seconds
  // Per-type fields (see the table in the spec).
  std::optional<std::string> owner;
  std::optional<std::string> token_uri;
  std::optional<std::string> metadata_key;
  std::optional<std::string> metadata_value;
  std::optional<std::string> client_address;
  std::optional<int64_t> feedback_index;
  std::optional<int32_t> score;  // smallint column, 0..100
  std::optional<std::string> tag1;
  std::optional<std::string> tag2;
  std::optional<std::string> file_uri;
  std::optional<std::string> file_hash;
  std::optional<std::string> validator_address;
  std::optional<std::string> request_uri;
  std::optional<std::string> request_hash;
  std::optional<int32_t> response;  // smallint column, 0..100
  std::optional<std::string> response_uri;
  std::optional<std::string> response_hash;
  std::optional<std::string> tag;

  bool operator==(const Event&) const = default;
};

// ---- Registries and event types --------------------------------------------------------------

// True for "identity", "reputation", "validation".
bool IsKnownRegistry(std::string_view registry);
// True when `event_type` is one of the registry's event types (case-sensitive).
bool IsEventTypeOf(std::string_view registry, std::string_view event_type);
// True when `event_type` is an event type of any registry.
bool IsKnownEventType(std::string_view event_type);
// The registry an event type belongs to, or "" for an unknown type.
std::string_view RegistryOfEventType(std::string_view event_type);
// The event types of `registry` in spec order, comma-separated, for error messages.
std::string EventTypesOf(std::string_view registry);
// The number of ERC-8004 event types, and a dense ordinal 0..kEventTypeCount−1 of a known event
// type (for table lookups); nullopt for an unknown type.
inline constexpr size_t kEventTypeCount = 9;
std::optional<size_t> EventTypeOrdinal(std::string_view event_type);

// "{registry}-{chain_id}-{transaction_hash}-{log_index}". REQUIRES: transaction_hash lowercase.
std::string ComputeEventId(std::string_view registry, int64_t chain_id,
                           std::string_view transaction_hash, int64_t log_index);

// ---- Ingest validation -----------------------------------------------------------------------

// Validates one event object given as JSON text and returns it normalized (lowercase hex, empty
// tags → null, computed id). On failure returns kInvalidArgument whose message summarizes the
// errors and, when `errors` is not null, appends one FieldError per bad field (paths as in the
// input: "agent_id"; "body" when the text is not JSON or not an object). Invalid UTF-8 anywhere
// in the text makes the JSON itself invalid ("body"). Unknown fields are ignored.
// REQUIRES: the caller has bounded the size of `json_text` (the API limits bodies to 1 MiB).
Result<Event> ValidateEvent(std::string_view json_text, FieldErrors* errors = nullptr);

// Validates a POST /events body: either one event object or {"events": [...]} with at most
// kMaxEventsPerBatch items (an empty array is valid and yields no events). All-or-nothing: returns
// every event, or kInvalidArgument with, in `errors`, each bad field of each bad item as
// "events[<index>].<field>" ("events[<index>]" when the item is not an object; plain field names
// for a single-object body).
Result<std::vector<Event>> ValidateEventBody(std::string_view body, FieldErrors* errors = nullptr);

// ---- Serialization ---------------------------------------------------------------------------

// The event as a compact JSON object (keys sorted): every core field, every field of its type
// (null when absent) and any other field that is set. This is the `event_data` snapshot of an
// action job and what templates render; ValidateEvent(EventToJson(e)) yields `e` again.
std::string EventToJson(const Event& event);

// ---- Field access (field_compare, ema_threshold) ---------------------------------------------

enum class EventField : uint8_t {
  kId,
  kChainId,
  kBlockNumber,
  kBlockHash,
  kTransactionHash,
  kLogIndex,
  kRegistry,
  kEventType,
  kAgentId,
  kTimestamp,
  kOwner,
  kTokenUri,
  kMetadataKey,
  kMetadataValue,
  kClientAddress,
  kFeedbackIndex,
  kScore,
  kTag1,
  kTag2,
  kFileUri,
  kFileHash,
  kValidatorAddress,
  kRequestUri,
  kRequestHash,
  kResponse,
  kResponseUri,
  kResponseHash,
  kTag,
};

enum class FieldKind : uint8_t { kInteger, kString };

// The field named `name` ("agent_id", "tag1", ...; the JSON names), or nullopt if there is none.
std::optional<EventField> EventFieldByName(std::string_view name);
std::string_view EventFieldName(EventField field);
FieldKind EventFieldKind(EventField field);
// True for fields stored as lowercase hex (id, hashes, addresses): values compared with them are
// lowercased first so a checksummed address in a condition still matches.
bool IsLowercaseHexField(EventField field);

// The value of one field of an event. `text` points into the event: valid while it lives and is
// not modified.
struct FieldValue {
  enum class Kind : uint8_t { kMissing, kInteger, kString };
  Kind kind = Kind::kMissing;
  int64_t integer = 0;
  std::string_view text;
};
FieldValue GetEventField(const Event& event, EventField field);

}  // namespace auri::pipeline
