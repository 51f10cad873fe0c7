#include "pipeline/event.h"

#include <array>
#include <limits>
#include <nlohmann/json.hpp>

#include "pipeline/text.h"

namespace auri::pipeline {
namespace {

using nlohmann::json;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

constexpr uint32_t Bit(EventField f) { return uint32_t{1} << static_cast<unsigned>(f); }

// The per-type fields of spec 20-pipeline.md as a bit set of EventField (agent_id is a core field).
struct EventTypeInfo {
  std::string_view registry;
  std::string_view event_type;
  uint32_t fields;
};

constexpr std::array<EventTypeInfo, kEventTypeCount> kEventTypes = {{
    {"identity", "Registered", Bit(EventField::kOwner) | Bit(EventField::kTokenUri)},
    {"identity", "MetadataSet", Bit(EventField::kMetadataKey) | Bit(EventField::kMetadataValue)},
    {"identity", "URIUpdated", Bit(EventField::kTokenUri) | Bit(EventField::kOwner)},
    {"identity", "Transfer", Bit(EventField::kOwner) | Bit(EventField::kClientAddress)},
    {"reputation", "NewFeedback",
     Bit(EventField::kClientAddress) | Bit(EventField::kFeedbackIndex) | Bit(EventField::kScore) |
         Bit(EventField::kTag1) | Bit(EventField::kTag2) | Bit(EventField::kFileUri) |
         Bit(EventField::kFileHash)},
    {"reputation", "FeedbackRevoked",
     Bit(EventField::kClientAddress) | Bit(EventField::kFeedbackIndex)},
    {"reputation", "ResponseAppended",
     Bit(EventField::kClientAddress) | Bit(EventField::kFeedbackIndex) |
         Bit(EventField::kValidatorAddress) | Bit(EventField::kResponseUri) |
         Bit(EventField::kResponseHash)},
    {"validation", "ValidationRequest",
     Bit(EventField::kValidatorAddress) | Bit(EventField::kRequestUri) |
         Bit(EventField::kRequestHash)},
    {"validation", "ValidationResponse",
     Bit(EventField::kValidatorAddress) | Bit(EventField::kRequestHash) |
         Bit(EventField::kResponse) | Bit(EventField::kResponseUri) |
         Bit(EventField::kResponseHash) | Bit(EventField::kTag)},
}};

const EventTypeInfo* FindEventType(std::string_view registry, std::string_view event_type) {
  for (const EventTypeInfo& info : kEventTypes) {
    if (info.registry == registry && info.event_type == event_type) return &info;
  }
  return nullptr;
}

struct FieldInfo {
  std::string_view name;
  FieldKind kind;
  bool lowercase_hex;
};

// Indexed by EventField; the order must follow the enum.
constexpr std::array<FieldInfo, 28> kFields = {{
    {"id", FieldKind::kString, true},
    {"chain_id", FieldKind::kInteger, false},
    {"block_number", FieldKind::kInteger, false},
    {"block_hash", FieldKind::kString, true},
    {"transaction_hash", FieldKind::kString, true},
    {"log_index", FieldKind::kInteger, false},
    {"registry", FieldKind::kString, false},
    {"event_type", FieldKind::kString, false},
    {"agent_id", FieldKind::kInteger, false},
    {"timestamp", FieldKind::kInteger, false},
    {"owner", FieldKind::kString, true},
    {"token_uri", FieldKind::kString, false},
    {"metadata_key", FieldKind::kString, false},
    {"metadata_value", FieldKind::kString, false},
    {"client_address", FieldKind::kString, true},
    {"feedback_index", FieldKind::kInteger, false},
    {"score", FieldKind::kInteger, false},
    {"tag1", FieldKind::kString, false},
    {"tag2", FieldKind::kString, false},
    {"file_uri", FieldKind::kString, false},
    {"file_hash", FieldKind::kString, true},
    {"validator_address", FieldKind::kString, true},
    {"request_uri", FieldKind::kString, false},
    {"request_hash", FieldKind::kString, true},
    {"response", FieldKind::kInteger, false},
    {"response_uri", FieldKind::kString, false},
    {"response_hash", FieldKind::kString, true},
    {"tag", FieldKind::kString, false},
}};
static_assert(static_cast<size_t>(EventField::kTag) + 1 == kFields.size());

constexpr EventField kFirstPerTypeField = EventField::kOwner;

std::string_view JsonTypeName(const json& v) {
  if (v.is_number_float()) return "a fractional number";
  if (v.is_number()) return "an integer";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "null";
}

// Reads the fields of one JSON object, appending an error per bad field. Every reader returns
// nullopt both for "absent" and for "invalid"; the caller tells them apart by the error count.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string prefix, FieldErrors* errors)
      : object_(object), prefix_(std::move(prefix)), errors_(errors) {}

  void Fail(std::string_view field, std::string message) {
    errors_->push_back({prefix_ + std::string(field), std::move(message)});
  }

  // The value of `field` when present and not null.
  const json* Find(std::string_view field) const {
    auto it = object_.find(std::string(field));
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::optional<int64_t> Integer(std::string_view field, int64_t min, int64_t max, bool required) {
    const json* v = Find(field);
    if (v == nullptr) {
      if (required) Fail(field, "is required");
      return std::nullopt;
    }
    std::string expected =
        "must be an integer between " + std::to_string(min) + " and " + std::to_string(max);
    if (v->is_number_unsigned()) {
      uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(max) || static_cast<int64_t>(u) < min) {
        Fail(field, expected + ", got " + std::to_string(u));
        return std::nullopt;
      }
      return static_cast<int64_t>(u);
    }
    if (v->is_number_integer()) {
      int64_t i = v->get<int64_t>();
      if (i < min || i > max) {
        Fail(field, expected + ", got " + std::to_string(i));
        return std::nullopt;
      }
      return i;
    }
    Fail(field, expected + ", got " + std::string(JsonTypeName(*v)));
    return std::nullopt;
  }

  const std::string* String(std::string_view field, bool required) {
    const json* v = Find(field);
    if (v == nullptr) {
      if (required) Fail(field, "is required");
      return nullptr;
    }
    if (!v->is_string()) {
      Fail(field, "must be a string, got " + std::string(JsonTypeName(*v)));
      return nullptr;
    }
    return &v->get_ref<const std::string&>();
  }

  // `0x` + `digits` hex digits in any case, returned lowercase.
  std::optional<std::string> Hex(std::string_view field, size_t digits, bool required) {
    const std::string* s = String(field, required);
    if (s == nullptr) return std::nullopt;
    if (!IsHexWithPrefix(*s, digits)) {
      Fail(field, "must be 0x followed by " + std::to_string(digits) + " hex digits");
      return std::nullopt;
    }
    return AsciiLower(*s);
  }

  // Valid UTF-8 without NUL, `min_chars`..`max_chars` code points.
  std::optional<std::string> Text(std::string_view field, size_t min_chars, size_t max_chars,
                                  bool required) {
    const std::string* s = String(field, required);
    if (s == nullptr) return std::nullopt;
    std::optional<size_t> chars = Utf8Length(*s);
    if (!chars) {
      Fail(field, "must be valid UTF-8");
      return std::nullopt;
    }
    if (s->find('\0') != std::string::npos) {
      Fail(field, "must not contain NUL characters");
      return std::nullopt;
    }
    if (*chars < min_chars || *chars > max_chars) {
      Fail(field, min_chars == 0 ? "must be at most " + std::to_string(max_chars) + " characters"
                                 : "must be " + std::to_string(min_chars) + ".." +
                                       std::to_string(max_chars) + " characters");
      return std::nullopt;
    }
    return *s;
  }

  // A tag: at most 255 characters; empty means "no tag" and becomes null.
  std::optional<std::string> Tag(std::string_view field) {
    std::optional<std::string> s = Text(field, 0, kMaxTagChars, false);
    if (s && s->empty()) return std::nullopt;
    return s;
  }

  size_t error_count() const { return errors_->size(); }

 private:
  const json& object_;
  std::string prefix_;
  FieldErrors* errors_;
};

void ReadPerTypeField(ObjectReader& r, EventField field, Event* e) {
  std::string_view name = kFields[static_cast<size_t>(field)].name;
  switch (field) {
    case EventField::kOwner:
      e->owner = r.Hex(name, 40, false);
      break;
    case EventField::kClientAddress:
      e->client_address = r.Hex(name, 40, false);
      break;
    case EventField::kValidatorAddress:
      e->validator_address = r.Hex(name, 40, false);
      break;
    case EventField::kFileHash:
      e->file_hash = r.Hex(name, 64, false);
      break;
    case EventField::kRequestHash:
      e->request_hash = r.Hex(name, 64, false);
      break;
    case EventField::kResponseHash:
      e->response_hash = r.Hex(name, 64, false);
      break;
    case EventField::kTokenUri:
      e->token_uri = r.Text(name, 0, kMaxUriChars, false);
      break;
    case EventField::kFileUri:
      e->file_uri = r.Text(name, 0, kMaxUriChars, false);
      break;
    case EventField::kRequestUri:
      e->request_uri = r.Text(name, 0, kMaxUriChars, false);
      break;
    case EventField::kResponseUri:
      e->response_uri = r.Text(name, 0, kMaxUriChars, false);
      break;
    case EventField::kMetadataKey:
      e->metadata_key = r.Text(name, 1, kMaxMetadataKeyChars, false);
      break;
    case EventField::kMetadataValue:
      e->metadata_value = r.Text(name, 0, kMaxMetadataValueChars, false);
      break;
    case EventField::kTag1:
      e->tag1 = r.Tag(name);
      break;
    case EventField::kTag2:
      e->tag2 = r.Tag(name);
      break;
    case EventField::kTag:
      e->tag = r.Tag(name);
      break;
    case EventField::kFeedbackIndex:
      e->feedback_index = r.Integer(name, 0, kInt64Max, false);
      break;
    case EventField::kScore:
      if (auto v = r.Integer(name, 0, 100, false)) e->score = static_cast<int32_t>(*v);
      break;
    case EventField::kResponse:
      if (auto v = r.Integer(name, 0, 100, false)) e->response = static_cast<int32_t>(*v);
      break;
    default:
      break;  // core fields are read by ReadEventObject
  }
}

// Validates one event object; appends errors prefixed with `prefix` ("" or "events[3].").
std::optional<Event> ReadEventObject(const json& object, std::string prefix, FieldErrors* errors) {
  ObjectReader r(object, std::move(prefix), errors);
  size_t errors_before = r.error_count();
  Event e;

  auto chain_id = r.Integer("chain_id", 1, kInt64Max, true);
  auto block_number = r.Integer("block_number", 0, kInt64Max, true);
  auto log_index = r.Integer("log_index", 0, kInt32Max, true);
  auto agent_id = r.Integer("agent_id", 0, kInt64Max, true);
  auto timestamp = r.Integer("timestamp", 0, kMaxEventTimestamp, true);
  auto tx_hash = r.Hex("transaction_hash", 64, true);
  e.block_hash = r.Hex("block_hash", 64, false);

  const std::string* registry = r.String("registry", true);
  const std::string* event_type = r.String("event_type", true);
  const EventTypeInfo* type_info = nullptr;
  if (registry != nullptr && !IsKnownRegistry(*registry)) {
    r.Fail("registry", "must be one of identity, reputation, validation");
  } else if (registry != nullptr && event_type != nullptr) {
    type_info = FindEventType(*registry, *event_type);
    if (type_info == nullptr) {
      r.Fail("event_type",
             "must be one of " + EventTypesOf(*registry) + " for registry " + *registry);
    }
  }

  if (type_info != nullptr) {
    for (size_t f = static_cast<size_t>(kFirstPerTypeField); f < kFields.size(); ++f) {
      if (type_info->fields & (uint32_t{1} << f)) {
        ReadPerTypeField(r, static_cast<EventField>(f), &e);
      }
    }
  }

  // The id is checked last: it can only be computed from valid parts.
  const std::string* given_id = r.String("id", false);
  if (registry != nullptr && chain_id && tx_hash && log_index) {
    std::string computed = ComputeEventId(*registry, *chain_id, *tx_hash, *log_index);
    if (given_id != nullptr && AsciiLower(*given_id) != computed) {
      r.Fail("id", "must equal {registry}-{chain_id}-{transaction_hash}-{log_index} = \"" +
                       computed + "\"");
    }
    e.id = std::move(computed);
  }

  if (r.error_count() != errors_before) return std::nullopt;
  e.chain_id = *chain_id;
  e.block_number = *block_number;
  e.log_index = static_cast<int32_t>(*log_index);
  e.agent_id = *agent_id;
  e.timestamp = *timestamp;
  e.transaction_hash = std::move(*tx_hash);
  e.registry = *registry;
  e.event_type = *event_type;
  return e;
}

// Parses JSON text; on failure appends a "body" error. nlohmann's message ends with the input it
// last read, which may be invalid UTF-8; it is cut off so the error body stays valid JSON.
std::optional<json> ParseBody(std::string_view text, FieldErrors* errors) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    if (size_t p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    if (size_t p = what.find("; last read"); p != std::string::npos) what.erase(p);
    errors->push_back({"body", "is not valid JSON (" + what + ")"});
    return std::nullopt;
  }
}

Status InvalidEvent(const FieldErrors& errors) {
  return InvalidArgument("invalid event: " + SummarizeFieldErrors(errors),
                         "fix the listed fields; spec 20-pipeline.md lists the event model");
}

}  // namespace

bool IsKnownRegistry(std::string_view registry) {
  return registry == "identity" || registry == "reputation" || registry == "validation";
}

bool IsEventTypeOf(std::string_view registry, std::string_view event_type) {
  return FindEventType(registry, event_type) != nullptr;
}

bool IsKnownEventType(std::string_view event_type) {
  return !RegistryOfEventType(event_type).empty();
}

std::string_view RegistryOfEventType(std::string_view event_type) {
  for (const EventTypeInfo& info : kEventTypes) {
    if (info.event_type == event_type) return info.registry;
  }
  return {};
}

std::optional<size_t> EventTypeOrdinal(std::string_view event_type) {
  for (size_t i = 0; i < kEventTypes.size(); ++i) {
    if (kEventTypes[i].event_type == event_type) return i;
  }
  return std::nullopt;
}

std::string EventTypesOf(std::string_view registry) {
  std::string out;
  for (const EventTypeInfo& info : kEventTypes) {
    if (info.registry != registry) continue;
    if (!out.empty()) out += ", ";
    out += info.event_type;
  }
  return out;
}

std::string ComputeEventId(std::string_view registry, int64_t chain_id,
                           std::string_view transaction_hash, int64_t log_index) {
  std::string id;
  id.reserve(registry.size() + transaction_hash.size() + 32);
  id += registry;
  id += '-';
  id += std::to_string(chain_id);
  id += '-';
  id += transaction_hash;
  id += '-';
  id += std::to_string(log_index);
  return id;
}

Result<Event> ValidateEvent(std::string_view json_text, FieldErrors* errors) {
  FieldErrors local;
  FieldErrors* out = errors != nullptr ? errors : &local;
  size_t before = out->size();
  std::optional<json> doc = ParseBody(json_text, out);
  if (doc && !doc->is_object()) {
    out->push_back({"body", "must be a JSON object (one event)"});
  } else if (doc) {
    try {
      std::optional<Event> event = ReadEventObject(*doc, "", out);
      if (event) return std::move(*event);
    } catch (const json::exception& e) {
      return Internal(std::string("validating an event: ") + e.what());
    }
  }
  return InvalidEvent(FieldErrors(out->begin() + static_cast<ptrdiff_t>(before), out->end()));
}

Result<std::vector<Event>> ValidateEventBody(std::string_view body, FieldErrors* errors) {
  FieldErrors local;
  FieldErrors* out = errors != nullptr ? errors : &local;
  size_t before = out->size();
  std::vector<Event> events;
  std::optional<json> doc = ParseBody(body, out);
  try {
    if (!doc) {
      // ParseBody recorded the error.
    } else if (!doc->is_object()) {
      out->push_back({"body", "must be an event object or {\"events\": [...]}"});
    } else if (auto it = doc->find("events"); it == doc->end()) {
      if (std::optional<Event> event = ReadEventObject(*doc, "", out)) {
        events.push_back(std::move(*event));
      }
    } else if (!it->is_array()) {
      out->push_back({"events", "must be an array of event objects"});
    } else if (it->size() > kMaxEventsPerBatch) {
      out->push_back({"events", "must hold at most " + std::to_string(kMaxEventsPerBatch) +
                                    " events, got " + std::to_string(it->size())});
    } else {
      events.reserve(it->size());
      for (size_t i = 0; i < it->size(); ++i) {
        std::string prefix = "events[" + std::to_string(i) + "]";
        const json& item = (*it)[i];
        if (!item.is_object()) {
          out->push_back({prefix, "must be an event object"});
          continue;
        }
        if (std::optional<Event> event = ReadEventObject(item, prefix + ".", out)) {
          events.push_back(std::move(*event));
        }
      }
    }
  } catch (const json::exception& e) {
    return Internal(std::string("validating an event body: ") + e.what());
  }
  if (out->size() != before) {
    return InvalidEvent(FieldErrors(out->begin() + static_cast<ptrdiff_t>(before), out->end()));
  }
  return events;
}

std::string EventToJson(const Event& event) {
  const EventTypeInfo* type_info = FindEventType(event.registry, event.event_type);
  json j = json::object();
  for (size_t f = 0; f < kFields.size(); ++f) {
    auto field = static_cast<EventField>(f);
    FieldValue v = GetEventField(event, field);
    bool of_type = type_info != nullptr && (type_info->fields & (uint32_t{1} << f));
    std::string name(kFields[f].name);
    switch (v.kind) {
      case FieldValue::Kind::kInteger:
        j[name] = v.integer;
        break;
      case FieldValue::Kind::kString:
        j[name] = std::string(v.text);
        break;
      case FieldValue::Kind::kMissing:
        // Core fields and the fields of the event's type are always present, so templates and
        // consumers of event_data see a stable shape.
        if (f < static_cast<size_t>(kFirstPerTypeField) || of_type) j[name] = nullptr;
        break;
    }
  }
  // `replace` keeps dump() from throwing on invalid UTF-8 in an event built outside validation.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<EventField> EventFieldByName(std::string_view name) {
  for (size_t f = 0; f < kFields.size(); ++f) {
    if (kFields[f].name == name) return static_cast<EventField>(f);
  }
  return std::nullopt;
}

std::string_view EventFieldName(EventField field) {
  return kFields[static_cast<size_t>(field)].name;
}

FieldKind EventFieldKind(EventField field) { return kFields[static_cast<size_t>(field)].kind; }

bool IsLowercaseHexField(EventField field) {
  return kFields[static_cast<size_t>(field)].lowercase_hex;
}

FieldValue GetEventField(const Event& e, EventField field) {
  auto integer = [](int64_t v) { return FieldValue{FieldValue::Kind::kInteger, v, {}}; };
  auto text = [](const std::string& s) { return FieldValue{FieldValue::Kind::kString, 0, s}; };
  auto opt_text = [&](const std::optional<std::string>& s) { return s ? text(*s) : FieldValue{}; };
  switch (field) {
    case EventField::kId:
      return text(e.id);
    case EventField::kChainId:
      return integer(e.chain_id);
    case EventField::kBlockNumber:
      return integer(e.block_number);
    case EventField::kBlockHash:
      return opt_text(e.block_hash);
    case EventField::kTransactionHash:
      return text(e.transaction_hash);
    case EventField::kLogIndex:
      return integer(e.log_index);
    case EventField::kRegistry:
      return text(e.registry);
    case EventField::kEventType:
      return text(e.event_type);
    case EventField::kAgentId:
      return integer(e.agent_id);
    case EventField::kTimestamp:
      return integer(e.timestamp);
    case EventField::kOwner:
      return opt_text(e.owner);
    case EventField::kTokenUri:
      return opt_text(e.token_uri);
    case EventField::kMetadataKey:
      return opt_text(e.metadata_key);
    case EventField::kMetadataValue:
      return opt_text(e.metadata_value);
    case EventField::kClientAddress:
      return opt_text(e.client_address);
    case EventField::kFeedbackIndex:
      return e.feedback_index ? integer(*e.feedback_index) : FieldValue{};
    case EventField::kScore:
      return e.score ? integer(*e.score) : FieldValue{};
    case EventField::kTag1:
      return opt_text(e.tag1);
    case EventField::kTag2:
      return opt_text(e.tag2);
    case EventField::kFileUri:
      return opt_text(e.file_uri);
    case EventField::kFileHash:
      return opt_text(e.file_hash);
    case EventField::kValidatorAddress:
      return opt_text(e.validator_address);
    case EventField::kRequestUri:
      return opt_text(e.request_uri);
    case EventField::kRequestHash:
      return opt_text(e.request_hash);
    case EventField::kResponse:
      return e.response ? integer(*e.response) : FieldValue{};
    case EventField::kResponseUri:
      return opt_text(e.response_uri);
    case EventField::kResponseHash:
      return opt_text(e.response_hash);
    case EventField::kTag:
      return opt_text(e.tag);
  }
  return {};
}

}  // namespace auri::pipeline
