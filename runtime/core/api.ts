/**
 * The public request and response shapes of API v1 (DESIGN §5); zod validates at the edge, once,
 * and the OpenAPI document (core/openapi.ts) is generated from these same schemas.
 */
import { z } from "zod";
import { InvalidRequestError, MessageTooLongError } from "./errors";
import { formatPath } from "./spec";
import { isThreadId } from "./ids";

export const MAX_CONTENT_CHARS = 10_000;
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_IDEMPOTENCY_KEY_CHARS = 256;
const MAX_CONTEXT_VARIABLES = 20;
const MAX_CONTEXT_BYTES = 4 * 1024;
const MAX_URL_CHARS = 2_048;

const CONTEXT_KEY = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

export const contextVariablesSchema = z
  .record(z.string(), z.string())
  .superRefine((vars, ctx) => {
    // Checked here rather than as the record's key schema, so the message names the bad key.
    for (const key of Object.keys(vars)) {
      if (!CONTEXT_KEY.test(key)) ctx.addIssue({ code: "custom", path: [key], message: `"${key}" is not UPPER_SNAKE_CASE` });
    }
  })
  .refine((vars) => Object.keys(vars).length <= MAX_CONTEXT_VARIABLES, `at most ${MAX_CONTEXT_VARIABLES} variables`)
  .refine((vars) => Buffer.byteLength(JSON.stringify(vars)) <= MAX_CONTEXT_BYTES, `at most ${MAX_CONTEXT_BYTES} bytes in all`)
  .meta({
    description: "UPPER_SNAKE_CASE keys, at most 20, at most 4 KB as JSON; fill {{NAME}} placeholders of the system prompt",
    propertyNames: { type: "string", pattern: CONTEXT_KEY.source },
    maxProperties: MAX_CONTEXT_VARIABLES,
  });

export const webhookUrlSchema = z
  .string()
  .max(MAX_URL_CHARS)
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), "must be an https URL")
  .meta({ description: "https; must not resolve to a private, loopback or link-local address", format: "uri" });

const threadIdSchema = z
  .string()
  .refine(isThreadId, "not a thread id (thr_ followed by 32 hex digits)")
  .meta({ description: "thr_ followed by 32 hex digits", example: "thr_0123456789abcdef0123456789abcdef" });

/** Unknown fields are rejected (not ignored): a typo such as `thread` must not start a new thread silently. */
export const askRequestSchema = z
  .strictObject({
    content: z.string().trim().min(1, "content must not be empty").meta({ description: `at most ${MAX_CONTENT_CHARS} characters` }),
    thread_id: threadIdSchema.optional(),
    context_variables: contextVariablesSchema.optional(),
    webhook_url: webhookUrlSchema.optional(),
  })
  .meta({ id: "AskRequest" });
export type AskRequest = z.infer<typeof askRequestSchema>;

export const askResponseSchema = z
  .object({
    thread_id: z.string(),
    response_id: z.string(),
    agent_id: z.string(),
    content: z.string(),
    timestamp: z.iso.datetime(),
  })
  .meta({ id: "AskResponse" });
export type AskResponse = z.infer<typeof askResponseSchema>;

/** 202 to an ask with a webhook: the answer is POSTed to the webhook; its delivery shows at /callbacks/{id}. */
export const askAcceptedSchema = z
  .object({
    callback_id: z.string(),
    thread_id: z.string(),
    response_id: z.string(),
    agent_id: z.string(),
    status: z.literal("accepted"),
  })
  .meta({ id: "AskAccepted" });
export type AskAccepted = z.infer<typeof askAcceptedSchema>;

export const errorBodySchema = z
  .object({ error: z.string(), error_code: z.string(), details: z.unknown().optional() })
  .meta({ id: "Error" });

export const agentSchema = z
  .object({
    agent_id: z.string(),
    deployment: z.string(),
    team: z.string(),
    agent_type: z.string(),
    endpoint: z.string(),
    state: z.enum(["starting", "running", "draining", "stopped"]),
    healthy: z.boolean(),
    queue_depth: z.number().int(),
    last_heartbeat: z.string().nullable(),
  })
  .meta({ id: "Agent" });
export const agentListSchema = z.object({ agents: z.array(agentSchema) }).meta({ id: "AgentList" });

export const MAX_HISTORY_PAGE = 200;
export const historyQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_PAGE).default(50),
  cursor: z.string().max(512).optional(),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

export const historyResponseSchema = z
  .object({
    thread_id: z.string(),
    messages: z.array(
      z.object({
        role: z.enum(["user", "assistant"]),
        content: z.string(),
        response_id: z.string(),
        agent_id: z.string().optional(),
        timestamp: z.iso.datetime(),
      }),
    ),
    next_cursor: z.string().nullable().meta({ description: "pass as ?cursor= for the next page; null on the last page" }),
  })
  .meta({ id: "History" });

export const callbackStatusSchema = z
  .object({
    callback_id: z.string(),
    status: z.enum(["pending", "delivering", "delivered", "failed"]),
    attempts: z.number().int(),
    thread_id: z.string(),
    response_id: z.string(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: z.iso.datetime(),
    delivered_at: z.iso.datetime().nullable(),
  })
  .meta({ id: "Callback" });

export const webhookTestRequestSchema = z.strictObject({ webhook_url: webhookUrlSchema.optional() }).meta({ id: "WebhookTestRequest" });
export const webhookTestResponseSchema = z
  .object({ delivered: z.boolean(), status_code: z.number().int().nullable(), error: z.string().nullable(), callback_id: z.string() })
  .meta({ id: "WebhookTestResult" });

export const createKeyRequestSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    owner: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, "letters, digits and _.:- only").optional(),
    rate_limit_per_minute: z.number().int().min(1).max(100_000).optional(),
    webhook_url: webhookUrlSchema.optional(),
  })
  .meta({ id: "CreateKeyRequest" });
export type CreateKeyRequest = z.infer<typeof createKeyRequestSchema>;

/** Parses a JSON body with `schema`, or throws the API error that says what is wrong. */
export function parseBody<S extends z.ZodType>(schema: S, body: string | undefined, hint = '{"content": "Hello"}'): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(body ?? "");
  } catch {
    throw new InvalidRequestError("request body must be a JSON object", { hint: `e.g. ${hint}` });
  }
  return parseValue(schema, json);
}

/** Validates an already-parsed value (a body, a query string) with `schema`. */
export function parseValue<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => ({
      field: formatPath(i.code === "unrecognized_keys" ? [...i.path, ...i.keys] : i.path) || "(body)",
      problem: i.message,
    }));
    throw new InvalidRequestError(`invalid request: ${problems.map((p) => `${p.field}: ${p.problem}`).join("; ")}`, { problems });
  }
  return result.data;
}

/** Parses a raw request body into an AskRequest or throws the API error that says what is wrong. */
export function parseAskRequest(body: string | undefined): AskRequest {
  let json: unknown;
  try {
    json = JSON.parse(body ?? "");
  } catch {
    throw new InvalidRequestError("request body must be a JSON object", { hint: 'e.g. {"content": "Hello"}' });
  }
  if (json && typeof json === "object" && typeof (json as { content?: unknown }).content === "string") {
    const length = (json as { content: string }).content.length;
    if (length > MAX_CONTENT_CHARS) throw new MessageTooLongError(length, MAX_CONTENT_CHARS);
  }
  return parseValue(askRequestSchema, json);
}

/**
 * The `Idempotency-Key` header: absent, or 1–256 printable ASCII characters. Anything else is a
 * 400 rather than silently running without idempotency.
 */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (header.length === 0 || header.length > MAX_IDEMPOTENCY_KEY_CHARS || !/^[\x21-\x7e]+$/.test(header)) {
    throw new InvalidRequestError(`Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters without spaces`, {
      problems: [{ field: "Idempotency-Key", problem: `1 to ${MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters` }],
    });
  }
  return header;
}
