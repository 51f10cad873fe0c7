#pragma once
// Status → HTTP translation: one of the two places a Status becomes something outside the process
// (the other is the CLI's exit codes). Handlers that fail with a Status return
// ResponseFromStatus(status) so every error has the same shape and code table.
#include <string_view>

#include "api/http.h"
#include "common/status.h"

namespace auri {
class Logger;
}

namespace auri::api {

// The error response for a failed `status` (spec 10-api.md):
//   kInvalidArgument → 400 bad_request        kUnauthenticated  → 401 unauthorized
//   kPermissionDenied → 403 forbidden         kNotFound         → 404 not_found
//   kAlreadyExists, kFailedPrecondition → 409 conflict
//   kResourceExhausted → 429 rate_limited (Retry-After: 60)
//   kUnavailable, kDeadlineExceeded → 503 service_unavailable (Retry-After: 5)
//   kInternal, kCheckFailed (and OK, which is a caller bug) → 500 internal_error
// 4xx carry the status message; 5xx carry a fixed message so internals never reach a client. When
// `logger` is given, 5xx statuses are logged in full with `request_id`.
HttpResponse ResponseFromStatus(const Status& status, const Logger* logger = nullptr,
                                std::string_view request_id = {});

}  // namespace auri::api
