/**
 * Every error the public API can return. One base class carries the public `error_code` and the
 * HTTP status, so the router maps any thrown error to `{error, error_code, details}` in one place.
 */
export type ErrorCode =
  | "INVALID_API_KEY"
  | "ENDPOINT_NOT_FOUND"
  | "ROUTE_NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "THREAD_NOT_FOUND"
  | "AGENT_NOT_FOUND"
  | "AGENT_NOT_RUNNING"
  | "CALLBACK_NOT_FOUND"
  | "KEY_NOT_FOUND"
  | "IDEMPOTENCY_IN_PROGRESS"
  | "IDEMPOTENCY_KEY_REUSED"
  | "RATE_LIMIT_EXCEEDED"
  | "WEBHOOK_NOT_CONFIGURED"
  | "INVALID_REQUEST"
  | "MESSAGE_TOO_LONG"
  | "PAYLOAD_TOO_LARGE"
  | "POOL_UNAVAILABLE"
  | "UPSTREAM_ERROR"
  | "TIMEOUT"
  | "BACKEND_UNAVAILABLE"
  | "INTERNAL_ERROR";

export interface ErrorBody {
  error: string;
  error_code: ErrorCode;
  details?: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. `Retry-After` on a 503. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { error: this.message, error_code: this.errorCode };
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

export class InvalidApiKeyError extends ApiError {
  constructor(header = "X-API-Key") {
    super(401, "INVALID_API_KEY", `missing or invalid ${header} header`);
  }
}

export class EndpointNotFoundError extends ApiError {
  constructor(slug: string) {
    super(404, "ENDPOINT_NOT_FOUND", `no agent type serves endpoint "${slug}"`, { endpoint_slug: slug });
  }
}

export class RouteNotFoundError extends ApiError {
  constructor(method: string, path: string) {
    super(404, "ROUTE_NOT_FOUND", `no route for ${method} ${path}`);
  }
}

export class MethodNotAllowedError extends ApiError {
  constructor(method: string, path: string, allowed: string[]) {
    super(405, "METHOD_NOT_ALLOWED", `${method} is not allowed on ${path}`, { allowed }, {
      Allow: allowed.join(", "),
    });
  }
}

export class ThreadNotFoundError extends ApiError {
  constructor() {
    // Says nothing about whether the thread exists for someone else.
    super(404, "THREAD_NOT_FOUND", "thread not found");
  }
}

export class InvalidRequestError extends ApiError {
  constructor(message: string, details?: unknown) {
    super(400, "INVALID_REQUEST", message, details);
  }
}

export class MessageTooLongError extends ApiError {
  constructor(length: number, max: number) {
    super(400, "MESSAGE_TOO_LONG", `content is ${length} characters; the limit is ${max}`, {
      length,
      max_length: max,
    });
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(bytes: number, max: number) {
    super(413, "PAYLOAD_TOO_LARGE", `request body is ${bytes} bytes; the limit is ${max}`, {
      max_bytes: max,
    });
  }
}

/**
 * Every replica of the endpoint is offline or at its overflow limit. `details.estimated_wait_seconds`
 * (when the router knows it) is how long the least busy replica needs to work off its queue, from
 * its depth and the answer times the router observed; Retry-After is that, clamped to [1, 60] s.
 */
export class PoolUnavailableError extends ApiError {
  constructor(endpoint: string, retryAfterSeconds: number, details: Record<string, unknown> & { estimated_wait_seconds?: number | null } = {}) {
    const wait = typeof details.estimated_wait_seconds === "number" ? `; estimated wait ${details.estimated_wait_seconds} s` : "";
    super(
      503,
      "POOL_UNAVAILABLE",
      `every agent serving "${endpoint}" is busy or offline${wait}; retry in ${retryAfterSeconds} s`,
      { retry_after_seconds: retryAfterSeconds, ...details },
      { "Retry-After": String(retryAfterSeconds) },
    );
  }
}

export class UpstreamError extends ApiError {
  constructor(message: string, details?: unknown) {
    super(502, "UPSTREAM_ERROR", message, details);
  }
}

export class TimeoutError extends ApiError {
  constructor(deadlineMs: number, details: Record<string, unknown> = {}) {
    super(504, "TIMEOUT", `no answer within ${deadlineMs} ms; the answer will still be stored in the thread`, {
      deadline_ms: deadlineMs,
      ...details,
    });
  }
}

export class BackendUnavailableError extends ApiError {
  constructor(what: string) {
    super(503, "BACKEND_UNAVAILABLE", `${what} is unreachable; retry shortly`, undefined, { "Retry-After": "1" });
  }
}

export class AgentNotFoundError extends ApiError {
  constructor(agentId: string) {
    super(404, "AGENT_NOT_FOUND", `no agent "${agentId}"`, { agent_id: agentId });
  }
}

export class AgentNotRunningError extends ApiError {
  constructor(agentId: string, state: string, healthy: boolean) {
    super(400, "AGENT_NOT_RUNNING", `agent "${agentId}" is ${healthy ? state : `${state} but has not sent a heartbeat lately`}; ask its endpoint instead`, {
      agent_id: agentId,
      state,
      healthy,
    });
  }
}

export class CallbackNotFoundError extends ApiError {
  constructor() {
    // Like threads: says nothing about callbacks of other owners.
    super(404, "CALLBACK_NOT_FOUND", "callback not found");
  }
}

export class KeyNotFoundError extends ApiError {
  constructor(prefix: string) {
    super(404, "KEY_NOT_FOUND", `no API key with prefix "${prefix}"`, { prefix });
  }
}

export class IdempotencyInProgressError extends ApiError {
  constructor() {
    super(409, "IDEMPOTENCY_IN_PROGRESS", "a request with this Idempotency-Key is still running; retry when it has finished", undefined, {
      "Retry-After": "1",
    });
  }
}

export class IdempotencyKeyReusedError extends ApiError {
  constructor() {
    super(422, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with a different request; use a new key for a new request");
  }
}

export class RateLimitExceededError extends ApiError {
  constructor(scope: "key" | "agent", limit: number, retryAfterSeconds: number, headers: Record<string, string>, details: Record<string, unknown> = {}) {
    super(
      429,
      "RATE_LIMIT_EXCEEDED",
      scope === "key"
        ? `this key may make ${limit} asks per minute; retry in ${retryAfterSeconds} s`
        : `the agent takes ${limit} asks per minute; retry in ${retryAfterSeconds} s`,
      { scope, limit, retry_after_seconds: retryAfterSeconds, ...details },
      { ...headers, "Retry-After": String(retryAfterSeconds) },
    );
  }
}

export class WebhookNotConfiguredError extends ApiError {
  constructor() {
    super(400, "WEBHOOK_NOT_CONFIGURED", "no webhook_url given and this key has no default webhook URL");
  }
}

export class AgentBusyError extends ApiError {
  constructor(agentId: string, depth: number) {
    super(503, "POOL_UNAVAILABLE", `agent "${agentId}" has ${depth} asks queued, its limit; retry in 2 s or ask its endpoint`, {
      agent_id: agentId,
      queue_depth: depth,
      retry_after_seconds: 2,
    }, { "Retry-After": "2" });
  }
}
