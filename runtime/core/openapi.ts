/**
 * `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the zod schemas that
 * validate requests (core/api.ts) with zod's own `z.toJSONSchema`, so the document cannot drift
 * from what the router accepts. Built once per process.
 */
import { z } from "zod";
import {
  agentListSchema,
  askAcceptedSchema,
  askRequestSchema,
  askResponseSchema,
  callbackStatusSchema,
  createKeyRequestSchema,
  errorBodySchema,
  historyResponseSchema,
  MAX_BODY_BYTES,
  MAX_IDEMPOTENCY_KEY_CHARS,
  webhookTestRequestSchema,
  webhookTestResponseSchema,
} from "./api";

const components = {
  AskRequest: askRequestSchema,
  AskResponse: askResponseSchema,
  AskAccepted: askAcceptedSchema,
  Error: errorBodySchema,
  AgentList: agentListSchema,
  History: historyResponseSchema,
  Callback: callbackStatusSchema,
  WebhookTestRequest: webhookTestRequestSchema,
  WebhookTestResult: webhookTestResponseSchema,
  CreateKeyRequest: createKeyRequestSchema,
} as const;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  let out = z.toJSONSchema(schema, { io, unrepresentable: "any", reused: "inline" }) as Record<string, any>;
  // A schema with a meta id comes back as {$ref, $defs: {id: …}}: the component is the definition.
  const id = typeof out.$ref === "string" ? out.$ref.replace("#/$defs/", "") : undefined;
  if (id && out.$defs?.[id]) out = out.$defs[id];
  delete out.$schema;
  delete out.id;
  return out;
}

const ref = (name: keyof typeof components) => ({ $ref: `#/components/schemas/${name}` });
const body = (name: keyof typeof components) => ({ content: { "application/json": { schema: ref(name) } } });
const rateHeaders = {
  "X-RateLimit-Limit": { schema: { type: "integer" }, description: "asks per minute allowed for this key" },
  "X-RateLimit-Remaining": { schema: { type: "integer" }, description: "asks left in the current minute" },
  "X-RateLimit-Reset": { schema: { type: "integer" }, description: "epoch seconds at which the window resets" },
};
const error = (description: string) => ({ description, ...body("Error") });
const errors = {
  "400": error("INVALID_REQUEST, MESSAGE_TOO_LONG, AGENT_NOT_RUNNING, WEBHOOK_NOT_CONFIGURED"),
  "401": error("INVALID_API_KEY: missing, unknown or revoked key"),
  "413": error(`PAYLOAD_TOO_LARGE: body over ${MAX_BODY_BYTES} bytes`),
  "429": { ...error("RATE_LIMIT_EXCEEDED (key or agent); see Retry-After"), headers: { "Retry-After": { schema: { type: "integer" } }, ...rateHeaders } },
  "503": error("POOL_UNAVAILABLE or BACKEND_UNAVAILABLE; see Retry-After"),
};
const askErrors = {
  ...errors,
  "404": error("ENDPOINT_NOT_FOUND, AGENT_NOT_FOUND, THREAD_NOT_FOUND"),
  "409": error("IDEMPOTENCY_IN_PROGRESS"),
  "422": error("IDEMPOTENCY_KEY_REUSED"),
  "502": error("UPSTREAM_ERROR: the model provider failed"),
  "504": error("TIMEOUT: no answer within the deadline (it is still stored in the thread)"),
};
const idempotencyKey = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  schema: { type: "string", minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_CHARS },
  description: "Replays the first response for 24 h instead of running the ask twice (scoped to the key's owner)",
};
const askResponses = {
  "200": { description: "the answer", headers: rateHeaders, ...body("AskResponse") },
  "202": { description: "accepted; the answer will be POSTed to the webhook", headers: rateHeaders, ...body("AskAccepted") },
  ...askErrors,
};
const pathParam = (name: string, description: string) => ({ name, in: "path", required: true, schema: { type: "string" }, description });

let cached: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  cached ??= {
    openapi: "3.1.0",
    info: { title: "agentpool API", version: "1" },
    components: {
      securitySchemes: { ApiKey: { type: "apiKey", in: "header", name: "X-API-Key" } },
      schemas: Object.fromEntries(
        Object.entries(components).map(([name, schema]) => [name, jsonSchema(schema, name.endsWith("Request") ? "input" : "output")]),
      ),
    },
    security: [{ ApiKey: [] }],
    paths: {
      "/api/v1/ask/{endpoint_slug}": {
        post: {
          summary: "Ask the pool serving an endpoint",
          parameters: [pathParam("endpoint_slug", "e.g. support"), idempotencyKey],
          requestBody: { required: true, ...body("AskRequest") },
          responses: askResponses,
        },
      },
      "/api/v1/agents/{agent_id}/messages": {
        post: {
          summary: "Ask one named agent (no balancing)",
          parameters: [pathParam("agent_id", "e.g. support-team-customer-support-1"), idempotencyKey],
          requestBody: { required: true, ...body("AskRequest") },
          responses: askResponses,
        },
      },
      "/api/v1/agents": { get: { summary: "Agents with state and queue depth", responses: { "200": { description: "agents", ...body("AgentList") }, ...errors } } },
      "/api/v1/conversations/{thread_id}/history": {
        get: {
          summary: "A thread's turns, oldest first, a page at a time",
          parameters: [
            pathParam("thread_id", "thr_…"),
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200, default: 50 } },
            { name: "cursor", in: "query", schema: { type: "string" }, description: "next_cursor of the previous page" },
          ],
          responses: { "200": { description: "a page", ...body("History") }, "404": error("THREAD_NOT_FOUND"), ...errors },
        },
      },
      "/api/v1/callbacks/{callback_id}": {
        get: {
          summary: "Delivery status of an async ask's webhook",
          parameters: [pathParam("callback_id", "cb_…")],
          responses: { "200": { description: "status", ...body("Callback") }, "404": error("CALLBACK_NOT_FOUND"), ...errors },
        },
      },
      "/api/v1/webhook/test": {
        post: {
          summary: "Send one signed test delivery to a webhook URL (or the key's default)",
          requestBody: { required: false, ...body("WebhookTestRequest") },
          responses: { "200": { description: "what the receiver answered", ...body("WebhookTestResult") }, ...errors },
        },
      },
      "/api/v1/admin/keys": {
        get: { summary: "List API keys (admin key only)", responses: { "200": { description: "keys" }, ...errors } },
        post: {
          summary: "Create an API key (admin key only); the key and its webhook secret are shown once",
          requestBody: { required: true, ...body("CreateKeyRequest") },
          responses: { "201": { description: "the new key" }, ...errors },
        },
      },
      "/api/v1/admin/keys/{prefix}": {
        delete: {
          summary: "Revoke the API key with this prefix (admin key only)",
          parameters: [pathParam("prefix", "cust_ and at least 4 more characters")],
          responses: { "200": { description: "revoked" }, "404": error("KEY_NOT_FOUND"), ...errors },
        },
      },
      "/api/v1/openapi.json": { get: { summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1" } } } },
    },
  };
  return cached;
}
