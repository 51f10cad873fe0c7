// Routes of triggers, conditions, actions, circuit breakers, delivery history and the event query
// API (spec 10-api.md, "Triggers", "Events").
//
// Every handler follows the same script: resolve the organization and check the caller's access
// (ResolveHeaderScope: 401/400/403) → ids that are not UUIDs are 404 → read and validate the body
// (415/400, every bad field at once) → one repository call (its own transaction) → the answer.
// The repository matches every trigger on its organization, so another tenant's trigger is 404.
#include <cctype>
#include <chrono>
#include <memory>
#include <variant>

#include "api/access.h"
#include "api/errors.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "api/trigger_cache.h"
#include "api/trigger_dto.h"
#include "pipeline/circuit_breaker.h"
#include "pipeline/event.h"
#include "pipeline/text.h"
#include "store/trigger_repository.h"

namespace auri::api {
namespace {

using nlohmann::json;

// UUIDs as text, ignoring case (a header may carry upper case; PostgreSQL prints lower case).
bool SameUuid(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

constexpr std::chrono::milliseconds kDbTimeout{3000};

HttpResponse NotFoundResponse(std::string_view what) {
  return ErrorResponse(404, "not_found", std::string(what) + " not found");
}

// The pieces every handler needs: the scope (or the response refusing it) and the failure path.
class Call {
 public:
  Call(const GatewayDeps& deps, const HttpRequest& request, Access access)
      : deps_(deps), request_(request) {
    auto scope = ResolveHeaderScope(request, *deps.member_roles, access);
    if (auto* refused = std::get_if<HttpResponse>(&scope)) {
      refused_ = std::move(*refused);
    } else {
      scope_ = std::get<OrgScope>(std::move(scope));
    }
  }

  // The response refusing the request, if any.
  const std::optional<HttpResponse>& refused() const { return refused_; }
  const std::string& org() const { return scope_.organization_id; }
  // The creator recorded on new triggers: the user, or none for an API key.
  std::string user_id() const {
    return request_.caller.kind == CallerKind::kUser ? request_.caller.user_id : std::string();
  }
  ConnectionPool& pool() const { return *deps_.pool; }

  // A path parameter that must be a UUID (else the resource does not exist).
  std::optional<std::string> Id(std::string_view name) const {
    std::string_view v = request_.PathParam(name);
    if (!IsUuid(v)) return std::nullopt;
    return std::string(v);
  }

  HttpResponse Fail(const Status& status) const {
    return ResponseFromStatus(status, deps_.logger, request_.request_id);
  }

  TriggerCache* cache() const { return deps_.trigger_cache; }
  // After a write of trigger `id` or of its children, whether it succeeded or not (a failure may
  // come after the commit, e.g. a lost connection): the next GET of this gateway reads it anew.
  void ForgetTrigger(const std::string& id) const {
    if (deps_.trigger_cache) deps_.trigger_cache->Forget(id);
  }

 private:
  const GatewayDeps& deps_;
  const HttpRequest& request_;
  OrgScope scope_;
  std::optional<HttpResponse> refused_;
};

HttpResponse NoContent() {
  HttpResponse response;
  response.status = 204;
  response.content_type.clear();
  return response;
}

template <typename T, typename ToJson>
HttpResponse PageResponse(const RowPage<T>& page, const Page& p, ToJson to_json) {
  json items = json::array();
  for (const T& row : page.rows) items.push_back(to_json(row));
  return ListResponse(std::move(items), page.total, p);
}

// ---- Triggers -----------------------------------------------------------------------------------

HttpResponse CreateTriggerHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kWrite);
  if (call.refused()) return *call.refused();
  auto body = ParseJsonObject(request);
  if (auto* r = std::get_if<HttpResponse>(&body)) return *r;
  const json& doc = std::get<json>(body);

  pipeline::FieldErrors errors;
  FieldReader reader(doc, &errors);
  std::optional<TriggerFields> fields = ReadTriggerFields(reader);
  std::vector<ConditionFields> conditions;
  std::vector<ActionFields> actions;
  // Nested children are validated like their own routes, against the trigger being created.
  auto read_list = [&](const char* name, int64_t max, auto&& read_one) {
    const json* list = reader.Raw(name, false);
    if (!list) return;
    if (!list->is_array()) {
      reader.Fail(name, "must be an array");
      return;
    }
    if (static_cast<int64_t>(list->size()) > max) {
      reader.Fail(name, "must have at most " + std::to_string(max) + " items");
      return;
    }
    for (size_t i = 0; i < list->size(); ++i) {
      std::string prefix = std::string(name) + "[" + std::to_string(i) + "].";
      if (!(*list)[i].is_object()) {
        errors.push_back({prefix.substr(0, prefix.size() - 1), "must be an object"});
        continue;
      }
      FieldReader item((*list)[i], &errors, prefix);
      read_one(item, prefix);
    }
  };
  read_list("conditions", kMaxConditionsPerTrigger,
            [&](FieldReader& item, const std::string& prefix) {
              std::optional<ConditionFields> c = ReadConditionFields(item);
              if (!c) return;
              if (fields)
                CheckCondition(*c, fields->is_stateful, fields->registry, prefix, &errors);
              conditions.push_back(std::move(*c));
            });
  read_list("actions", kMaxActionsPerTrigger, [&](FieldReader& item, const std::string&) {
    if (std::optional<ActionFields> a = ReadActionFields(item)) actions.push_back(std::move(*a));
  });
  if (!errors.empty() || !fields) return ValidationErrorResponse(errors);

  Result<TriggerWithChildren> created = CreateTrigger(call.pool(), call.org(), call.user_id(),
                                                      *fields, conditions, actions, kDbTimeout);
  if (!created.ok()) return call.Fail(created.status());
  return DataResponse(201, TriggerWithChildrenJson(*created));
}

HttpResponse ListTriggersHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kRead);
  if (call.refused()) return *call.refused();
  auto page = ParsePage(request);
  if (auto* r = std::get_if<HttpResponse>(&page)) return *r;
  TriggerFilter filter;
  pipeline::FieldErrors errors;
  if (auto enabled = request.Query("enabled")) {
    if (*enabled == "true") {
      filter.enabled = true;
    } else if (*enabled == "false") {
      filter.enabled = false;
    } else {
      errors.push_back({"enabled", "must be true or false"});
    }
  }
  if (auto registry = request.Query("registry")) {
    if (!pipeline::IsKnownRegistry(*registry)) {
      errors.push_back({"registry", "must be one of identity, reputation, validation"});
    } else {
      filter.registry = std::string(*registry);
    }
  }
  if (auto chain = request.Query("chain_id")) {
    std::optional<int64_t> n = pipeline::ParseInt64(*chain);
    if (!n || *n < 1) {
      errors.push_back({"chain_id", "must be a positive integer"});
    } else {
      filter.chain_id = *n;
    }
  }
  if (!errors.empty()) return ValidationErrorResponse(errors);
  const Page& p = std::get<Page>(page);
  Result<RowPage<TriggerRow>> rows =
      ListTriggers(call.pool(), call.org(), filter, p.limit, p.offset, kDbTimeout);
  if (!rows.ok()) return call.Fail(rows.status());
  return PageResponse(*rows, p, TriggerJson);
}

// The one read served from the trigger cache (api/trigger_cache.h). The scope check above it runs
// on every request; a cached answer is served only to callers scoped to the trigger's own
// organization, anyone else reads the database (which answers 404).
HttpResponse GetTriggerHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kRead);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  TriggerCache* cache = call.cache();
  uint64_t generation = 0;
  if (cache && cache->enabled()) {
    if (std::shared_ptr<const TriggerCache::Entry> hit = cache->Find(*id);
        hit && SameUuid(hit->organization_id, call.org())) {
      return JsonResponse(200, hit->body);
    }
    generation = cache->Generation();  // before the read: see TriggerCache::Store
  }
  Result<TriggerWithChildren> found = GetTrigger(call.pool(), call.org(), *id, kDbTimeout);
  if (!found.ok()) return call.Fail(found.status());
  HttpResponse response = DataResponse(200, TriggerWithChildrenJson(*found));
  if (cache && cache->enabled()) {
    cache->Store(*id, found->trigger.organization_id, response.body, generation);
  }
  return response;
}

HttpResponse UpdateTriggerHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kWrite);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  auto body = ParseJsonObject(request);
  if (auto* r = std::get_if<HttpResponse>(&body)) return *r;
  pipeline::FieldErrors errors;
  FieldReader reader(std::get<json>(body), &errors);
  std::optional<TriggerFields> fields = ReadTriggerFields(reader);
  if (!errors.empty() || !fields) return ValidationErrorResponse(errors);
  Result<TriggerRow> updated = UpdateTrigger(call.pool(), call.org(), *id, *fields, kDbTimeout);
  call.ForgetTrigger(*id);
  if (!updated.ok()) return call.Fail(updated.status());
  return DataResponse(200, TriggerJson(*updated));
}

HttpResponse DeleteTriggerHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kDelete);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  Status deleted = DeleteTrigger(call.pool(), call.org(), *id, kDbTimeout);
  call.ForgetTrigger(*id);
  if (!deleted.ok()) return call.Fail(deleted);
  return NoContent();
}

// ---- Conditions ---------------------------------------------------------------------------------

// POST and PUT of a condition: the body, then the repository with the rule check run against the
// locked trigger row.
HttpResponse WriteCondition(const GatewayDeps& deps, const HttpRequest& request, bool create) {
  Call call(deps, request, Access::kWrite);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  std::optional<std::string> cid;
  if (!create) {
    cid = call.Id("cid");
    if (!cid) return NotFoundResponse("condition");
  }
  auto body = ParseJsonObject(request);
  if (auto* r = std::get_if<HttpResponse>(&body)) return *r;
  pipeline::FieldErrors errors;
  FieldReader reader(std::get<json>(body), &errors);
  std::optional<ConditionFields> fields = ReadConditionFields(reader);
  if (!errors.empty() || !fields) return ValidationErrorResponse(errors);

  TriggerCheck check = [&](const TriggerRow& trigger) {
    CheckCondition(*fields, trigger.fields.is_stateful, trigger.fields.registry, "", &errors);
    return errors.empty() ? Status::Ok() : InvalidArgument("invalid condition");
  };
  Result<ConditionRow> written =
      create ? CreateCondition(call.pool(), call.org(), *id, *fields, check, kDbTimeout)
             : UpdateCondition(call.pool(), call.org(), *id, *cid, *fields, check, kDbTimeout);
  call.ForgetTrigger(*id);
  if (!errors.empty()) return ValidationErrorResponse(errors);
  if (!written.ok()) return call.Fail(written.status());
  return DataResponse(create ? 201 : 200, ConditionJson(*written));
}

HttpResponse ListConditionsHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kRead);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  auto page = ParsePage(request);
  if (auto* r = std::get_if<HttpResponse>(&page)) return *r;
  const Page& p = std::get<Page>(page);
  Result<RowPage<ConditionRow>> rows =
      ListConditions(call.pool(), call.org(), *id, p.limit, p.offset, kDbTimeout);
  if (!rows.ok()) return call.Fail(rows.status());
  return PageResponse(*rows, p, ConditionJson);
}

HttpResponse DeleteConditionHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kDelete);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  std::optional<std::string> cid = call.Id("cid");
  if (!cid) return NotFoundResponse("condition");
  Status deleted = DeleteCondition(call.pool(), call.org(), *id, *cid, kDbTimeout);
  call.ForgetTrigger(*id);
  if (!deleted.ok()) return call.Fail(deleted);
  return NoContent();
}

// ---- Actions ------------------------------------------------------------------------------------

HttpResponse WriteAction(const GatewayDeps& deps, const HttpRequest& request, bool create) {
  Call call(deps, request, Access::kWrite);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  std::optional<std::string> aid;
  if (!create) {
    aid = call.Id("aid");
    if (!aid) return NotFoundResponse("action");
  }
  auto body = ParseJsonObject(request);
  if (auto* r = std::get_if<HttpResponse>(&body)) return *r;
  pipeline::FieldErrors errors;
  FieldReader reader(std::get<json>(body), &errors);
  std::optional<ActionFields> fields = ReadActionFields(reader);
  if (!errors.empty() || !fields) return ValidationErrorResponse(errors);
  Result<ActionRow> written =
      create ? CreateAction(call.pool(), call.org(), *id, *fields, kDbTimeout)
             : UpdateAction(call.pool(), call.org(), *id, *aid, *fields, kDbTimeout);
  call.ForgetTrigger(*id);
  if (!written.ok()) return call.Fail(written.status());
  return DataResponse(create ? 201 : 200, ActionJson(*written));
}

HttpResponse ListActionsHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kRead);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  auto page = ParsePage(request);
  if (auto* r = std::get_if<HttpResponse>(&page)) return *r;
  const Page& p = std::get<Page>(page);
  Result<RowPage<ActionRow>> rows =
      ListActions(call.pool(), call.org(), *id, p.limit, p.offset, kDbTimeout);
  if (!rows.ok()) return call.Fail(rows.status());
  return PageResponse(*rows, p, ActionJson);
}

HttpResponse DeleteActionHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kDelete);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  std::optional<std::string> aid = call.Id("aid");
  if (!aid) return NotFoundResponse("action");
  Status deleted = DeleteAction(call.pool(), call.org(), *id, *aid, kDbTimeout);
  call.ForgetTrigger(*id);
  if (!deleted.ok()) return call.Fail(deleted);
  return NoContent();
}

// ---- Circuit breaker ----------------------------------------------------------------------------

HttpResponse GetBreakerHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kRead);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  Result<TriggerWithChildren> found = GetTrigger(call.pool(), call.org(), *id, kDbTimeout);
  if (!found.ok()) return call.Fail(found.status());
  return DataResponse(200, BreakerJson(found->trigger));
}

// PATCH: {"config": {...}} or the same fields at the top level; absent fields keep their values.
HttpResponse PatchBreakerHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kWrite);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  auto body = ParseJsonObject(request);
  if (auto* r = std::get_if<HttpResponse>(&body)) return *r;
  const json& doc = std::get<json>(body);
  pipeline::FieldErrors errors;
  const json* source = &doc;
  std::string prefix;
  if (auto it = doc.find("config"); it != doc.end()) {
    if (!it->is_object()) {
      return ValidationErrorResponse({{"config", "must be a JSON object"}});
    }
    source = &*it;
    prefix = "config.";
  }
  FieldReader reader(*source, &errors, prefix);
  std::optional<int64_t> threshold = reader.Int("failure_threshold", false, 1, 1000);
  std::optional<int64_t> recovery = reader.Int("recovery_timeout_seconds", false, 60, 604800);
  std::optional<int64_t> half_open = reader.Int("half_open_max_calls", false, 1, 10);
  if (!errors.empty()) return ValidationErrorResponse(errors);

  // Read-modify-write of three integers: two concurrent PATCHes of different fields may lose one
  // (last writer wins), which is acceptable for settings a person edits.
  Result<TriggerWithChildren> current = GetTrigger(call.pool(), call.org(), *id, kDbTimeout);
  if (!current.ok()) return call.Fail(current.status());
  const BreakerRow& b = current->trigger.breaker;
  pipeline::CircuitBreakerConfig config{
      .failure_threshold = static_cast<int32_t>(threshold.value_or(b.failure_threshold)),
      .recovery_timeout_seconds =
          static_cast<int32_t>(recovery.value_or(b.recovery_timeout_seconds)),
      .half_open_max_calls = static_cast<int32_t>(half_open.value_or(b.half_open_max_calls))};
  if (!pipeline::ValidateCircuitBreakerConfig(config, &errors).ok()) {
    return ValidationErrorResponse(errors);
  }
  Result<TriggerRow> updated =
      UpdateBreakerConfig(call.pool(), call.org(), *id, config.failure_threshold,
                          config.recovery_timeout_seconds, config.half_open_max_calls, kDbTimeout);
  call.ForgetTrigger(*id);  // the breaker is not in GET /triggers/{id} today; forgetting is cheap
  if (!updated.ok()) return call.Fail(updated.status());
  return DataResponse(200, BreakerJson(*updated));
}

HttpResponse ResetBreakerHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kWrite);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  Result<TriggerRow> reset = ResetBreaker(call.pool(), call.org(), *id, kDbTimeout);
  if (!reset.ok()) return call.Fail(reset.status());
  return DataResponse(200, BreakerJson(*reset));
}

// ---- Delivery history ---------------------------------------------------------------------------

HttpResponse ListResultsHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kRead);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  auto page = ParsePage(request);
  if (auto* r = std::get_if<HttpResponse>(&page)) return *r;
  const Page& p = std::get<Page>(page);
  Result<RowPage<ActionResultRow>> rows =
      ListActionResults(call.pool(), call.org(), *id, p.limit, p.offset, kDbTimeout);
  if (!rows.ok()) return call.Fail(rows.status());
  return PageResponse(*rows, p, ActionResultJson);
}

HttpResponse ListDeadLettersHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kRead);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  auto page = ParsePage(request);
  if (auto* r = std::get_if<HttpResponse>(&page)) return *r;
  const Page& p = std::get<Page>(page);
  Result<RowPage<JobRow>> rows =
      ListDeadLetters(call.pool(), call.org(), *id, p.limit, p.offset, kDbTimeout);
  if (!rows.ok()) return call.Fail(rows.status());
  return PageResponse(*rows, p, JobJson);
}

HttpResponse ReplayDeadLetterHandler(const GatewayDeps& deps, const HttpRequest& request) {
  Call call(deps, request, Access::kWrite);
  if (call.refused()) return *call.refused();
  std::optional<std::string> id = call.Id("id");
  if (!id) return NotFoundResponse("trigger");
  std::optional<std::string> job = call.Id("job_id");
  if (!job) return NotFoundResponse("job");
  Result<JobRow> replayed = ReplayDeadLetter(call.pool(), call.org(), *id, *job, kDbTimeout);
  if (!replayed.ok()) return call.Fail(replayed.status());
  return DataResponse(200, JobJson(*replayed));
}

// ---- Events -------------------------------------------------------------------------------------

HttpResponse QueryEventsHandler(const GatewayDeps& deps, const HttpRequest& request) {
  // Events are global facts (not per organization): any member of any organization, or a key
  // with read, may query them.
  Call call(deps, request, Access::kRead);
  if (call.refused()) return *call.refused();
  auto page = ParsePage(request);
  if (auto* r = std::get_if<HttpResponse>(&page)) return *r;
  EventFilter filter;
  pipeline::FieldErrors errors;
  auto read_int = [&](const char* name, int64_t min, std::optional<int64_t>* out) {
    if (auto text = request.Query(name)) {
      std::optional<int64_t> n = pipeline::ParseInt64(*text);
      if (!n || *n < min) {
        errors.push_back({name, "must be an integer >= " + std::to_string(min)});
      } else {
        *out = *n;
      }
    }
  };
  read_int("chain_id", 1, &filter.chain_id);
  read_int("agent_id", 0, &filter.agent_id);
  if (auto registry = request.Query("registry")) {
    if (!pipeline::IsKnownRegistry(*registry)) {
      errors.push_back({"registry", "must be one of identity, reputation, validation"});
    } else {
      filter.registry = std::string(*registry);
    }
  }
  if (auto type = request.Query("event_type")) {
    if (!pipeline::IsKnownEventType(*type)) {
      errors.push_back({"event_type", "must be an ERC-8004 event type (e.g. NewFeedback)"});
    } else {
      filter.event_type = std::string(*type);
    }
  }
  auto read_time = [&](const char* name, std::optional<int64_t>* out) {
    if (auto text = request.Query(name)) {
      *out = ParseRfc3339Micros(*text);
      if (!*out) {
        errors.push_back({name, "must be an RFC 3339 date-time, e.g. 2026-01-02T03:04:05Z"});
      }
    }
  };
  read_time("since", &filter.since_unix_micros);
  read_time("until", &filter.until_unix_micros);
  if (filter.since_unix_micros && filter.until_unix_micros &&
      *filter.since_unix_micros > *filter.until_unix_micros) {
    errors.push_back({"until", "must not be earlier than since"});
  }
  if (!errors.empty()) return ValidationErrorResponse(errors);
  const Page& p = std::get<Page>(page);
  Result<RowPage<std::string>> rows =
      QueryEvents(call.pool(), filter, p.limit, p.offset, kDbTimeout);
  if (!rows.ok()) return call.Fail(rows.status());
  return PageResponse(*rows, p, [](const std::string& text) {
    json event = json::parse(text, nullptr, /*allow_exceptions=*/false);
    return event.is_discarded() ? json::object() : event;
  });
}

}  // namespace

std::vector<Route> TriggerRoutes(const GatewayDeps& deps) {
  // The handlers share one copy of the dependencies: `deps` itself may not outlive this call
  // (only what its pointers point to must).
  auto shared = std::make_shared<const GatewayDeps>(deps);
  std::vector<Route> routes;
  auto add = [&](const char* method, const char* pattern, const char* description,
                 HttpResponse (*handler)(const GatewayDeps&, const HttpRequest&)) {
    routes.push_back(
        Route{.method = method,
              .pattern = pattern,
              .handler = [shared, handler](const HttpRequest& r) { return handler(*shared, r); },
              .authenticated = true,
              .rate_limited = true,
              .description = description});
  };
  add("POST", "/api/v1/triggers", "Create a trigger, with nested conditions and actions",
      CreateTriggerHandler);
  add("GET", "/api/v1/triggers", "List the organization's triggers, newest first",
      ListTriggersHandler);
  add("GET", "/api/v1/triggers/{id}", "Get a trigger with its conditions and actions",
      GetTriggerHandler);
  add("PUT", "/api/v1/triggers/{id}", "Replace a trigger's definition", UpdateTriggerHandler);
  add("DELETE", "/api/v1/triggers/{id}", "Delete a trigger and everything it owns",
      DeleteTriggerHandler);
  add("POST", "/api/v1/triggers/{id}/conditions", "Add a condition to a trigger",
      [](const GatewayDeps& d, const HttpRequest& r) { return WriteCondition(d, r, true); });
  add("GET", "/api/v1/triggers/{id}/conditions", "List a trigger's conditions in evaluation order",
      ListConditionsHandler);
  add("PUT", "/api/v1/triggers/{id}/conditions/{cid}", "Replace a condition (clears its state)",
      [](const GatewayDeps& d, const HttpRequest& r) { return WriteCondition(d, r, false); });
  add("DELETE", "/api/v1/triggers/{id}/conditions/{cid}", "Delete a condition",
      DeleteConditionHandler);
  add("POST", "/api/v1/triggers/{id}/actions", "Add an action to a trigger",
      [](const GatewayDeps& d, const HttpRequest& r) { return WriteAction(d, r, true); });
  add("GET", "/api/v1/triggers/{id}/actions", "List a trigger's actions by priority",
      ListActionsHandler);
  add("PUT", "/api/v1/triggers/{id}/actions/{aid}", "Replace an action",
      [](const GatewayDeps& d, const HttpRequest& r) { return WriteAction(d, r, false); });
  add("DELETE", "/api/v1/triggers/{id}/actions/{aid}", "Delete an action", DeleteActionHandler);
  add("GET", "/api/v1/triggers/{id}/circuit-breaker", "Get a trigger's circuit breaker",
      GetBreakerHandler);
  add("PATCH", "/api/v1/triggers/{id}/circuit-breaker", "Change a circuit breaker's config",
      PatchBreakerHandler);
  add("POST", "/api/v1/triggers/{id}/circuit-breaker/reset", "Reset a circuit breaker to Closed",
      ResetBreakerHandler);
  add("GET", "/api/v1/triggers/{id}/results", "List a trigger's action results, newest first",
      ListResultsHandler);
  add("GET", "/api/v1/triggers/{id}/dead-letters", "List a trigger's dead action jobs",
      ListDeadLettersHandler);
  add("POST", "/api/v1/triggers/{id}/dead-letters/{job_id}/replay",
      "Replay a dead action job (attempts reset, pending again)", ReplayDeadLetterHandler);
  add("GET", "/api/v1/events", "Query stored events, newest first", QueryEventsHandler);
  return routes;
}

}  // namespace auri::api
