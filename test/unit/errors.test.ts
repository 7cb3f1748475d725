/** Every API error maps to the public shape `{error, error_code, details?}` with its status and headers. */
import {
  ApiError,
  BackendUnavailableError,
  EndpointNotFoundError,
  InvalidApiKeyError,
  InvalidRequestError,
  MessageTooLongError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  PoolUnavailableError,
  RouteNotFoundError,
  ThreadNotFoundError,
  TimeoutError,
  UpstreamError,
} from "../../runtime/core/errors";

describe("API errors", () => {
  test.each<[string, ApiError, number, string]>([
    ["InvalidApiKeyError", new InvalidApiKeyError(), 401, "INVALID_API_KEY"],
    ["EndpointNotFoundError", new EndpointNotFoundError("billing"), 404, "ENDPOINT_NOT_FOUND"],
    ["RouteNotFoundError", new RouteNotFoundError("GET", "/nope"), 404, "ROUTE_NOT_FOUND"],
    ["MethodNotAllowedError", new MethodNotAllowedError("GET", "/api/v1/ask/support", ["POST"]), 405, "METHOD_NOT_ALLOWED"],
    ["ThreadNotFoundError", new ThreadNotFoundError(), 404, "THREAD_NOT_FOUND"],
    ["InvalidRequestError", new InvalidRequestError("bad"), 400, "INVALID_REQUEST"],
    ["MessageTooLongError", new MessageTooLongError(10_001, 10_000), 400, "MESSAGE_TOO_LONG"],
    ["PayloadTooLargeError", new PayloadTooLargeError(70_000, 65_536), 413, "PAYLOAD_TOO_LARGE"],
    ["PoolUnavailableError", new PoolUnavailableError("support", 2), 503, "POOL_UNAVAILABLE"],
    ["UpstreamError", new UpstreamError("provider down"), 502, "UPSTREAM_ERROR"],
    ["TimeoutError", new TimeoutError(25_000), 504, "TIMEOUT"],
    ["BackendUnavailableError", new BackendUnavailableError("DynamoDB"), 503, "BACKEND_UNAVAILABLE"],
  ])("%s is a %i %s, named after its class", (name, error, status, code) => {
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.status).toBe(status);
    expect(error.errorCode).toBe(code);
    expect(error.toBody()).toMatchObject({ error: error.message, error_code: code });
  });

  test("the body has exactly error and error_code when there are no details", () => {
    const body = new InvalidApiKeyError().toBody();

    expect(body).toEqual({ error: "missing or invalid X-API-Key header", error_code: "INVALID_API_KEY" });
    expect(Object.keys(body)).toEqual(["error", "error_code"]);
  });

  test("the body carries details when there are some", () => {
    const body = new MessageTooLongError(12_000, 10_000).toBody();

    expect(body).toEqual({
      error: "content is 12000 characters; the limit is 10000",
      error_code: "MESSAGE_TOO_LONG",
      details: { length: 12_000, max_length: 10_000 },
    });
  });

  test("the body is plain JSON", () => {
    const error = new PoolUnavailableError("support", 2, { eligible: 3 });

    expect(JSON.parse(JSON.stringify(error.toBody()))).toEqual(error.toBody());
  });

  test("a full pool answers 503 with Retry-After in seconds and says when to retry", () => {
    const error = new PoolUnavailableError("support", 2, { eligible: 3, min_depth: 10 });

    expect(error.headers).toEqual({ "Retry-After": "2" });
    expect(error.message).toContain('"support"');
    expect(error.message).toContain("retry in 2 s");
    expect(error.toBody().details).toEqual({ retry_after_seconds: 2, eligible: 3, min_depth: 10 });
  });

  test("an unreachable backend answers 503 with Retry-After", () => {
    expect(new BackendUnavailableError("SQS").headers).toEqual({ "Retry-After": "1" });
  });

  test("a wrong method says which methods are allowed, in the body and the Allow header", () => {
    const error = new MethodNotAllowedError("GET", "/api/v1/ask/support", ["POST", "OPTIONS"]);

    expect(error.headers).toEqual({ Allow: "POST, OPTIONS" });
    expect(error.toBody().details).toEqual({ allowed: ["POST", "OPTIONS"] });
  });

  test("errors without extra headers carry none", () => {
    expect(new InvalidRequestError("bad").headers).toEqual({});
  });

  test("an unknown thread says nothing about whether it exists for someone else", () => {
    const body = new ThreadNotFoundError().toBody();

    expect(body).toEqual({ error: "thread not found", error_code: "THREAD_NOT_FOUND" });
  });

  test("an unknown endpoint names the slug that was asked for", () => {
    expect(new EndpointNotFoundError("billing").toBody()).toEqual({
      error: 'no agent type serves endpoint "billing"',
      error_code: "ENDPOINT_NOT_FOUND",
      details: { endpoint_slug: "billing" },
    });
  });

  test("a timeout says the deadline and that the answer will still be stored", () => {
    const body = new TimeoutError(25_000, { thread_id: "thr_x" }).toBody();

    expect(body.error).toContain("25000 ms");
    expect(body.error).toContain("still be stored");
    expect(body.details).toEqual({ deadline_ms: 25_000, thread_id: "thr_x" });
  });
});
