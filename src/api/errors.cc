#include "api/errors.h"

#include "common/logging.h"

namespace auri::api {

HttpResponse ResponseFromStatus(const Status& status, const Logger* logger,
                                std::string_view request_id) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return ErrorResponse(400, "bad_request", status.message());
    case StatusCode::kUnauthenticated:
      return ErrorResponse(401, "unauthorized", status.message());
    case StatusCode::kPermissionDenied:
      return ErrorResponse(403, "forbidden", status.message());
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", status.message());
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return ErrorResponse(409, "conflict", status.message());
    case StatusCode::kResourceExhausted: {
      HttpResponse response = ErrorResponse(429, "rate_limited", status.message());
      response.headers.Set("Retry-After", "60");
      return response;
    }
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded: {
      // The dependency's own message (host names, SQL states) is for operators, not clients.
      if (logger) {
        logger->Warn("request failed: dependency unavailable",
                     {{"request_id", request_id}, {"error", status.ToString()}});
      }
      HttpResponse response =
          ErrorResponse(503, "service_unavailable", "service temporarily unavailable, retry later");
      response.headers.Set("Retry-After", "5");
      return response;
    }
    case StatusCode::kOk:
    case StatusCode::kCheckFailed:
    case StatusCode::kInternal:
      break;
  }
  if (logger) {
    logger->Error("request failed: internal error",
                  {{"request_id", request_id}, {"error", status.ToString()}});
  }
  return ErrorResponse(500, "internal_error", "internal error");
}

}  // namespace auri::api
