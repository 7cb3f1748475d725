/** The public request and response shapes of API v1 (DESIGN §5); zod validates at the edge, once. */
import { z } from "zod";
import { InvalidRequestError, MessageTooLongError } from "./errors";
import { formatPath } from "./spec";
import { isThreadId } from "./ids";

export const MAX_CONTENT_CHARS = 10_000;
export const MAX_BODY_BYTES = 64 * 1024;
const MAX_CONTEXT_VARIABLES = 20;
const MAX_CONTEXT_BYTES = 4 * 1024;

export const contextVariablesSchema = z
  .record(z.string().regex(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, "keys must be UPPER_SNAKE_CASE"), z.string())
  .refine((vars) => Object.keys(vars).length <= MAX_CONTEXT_VARIABLES, `at most ${MAX_CONTEXT_VARIABLES} variables`)
  .refine((vars) => Buffer.byteLength(JSON.stringify(vars)) <= MAX_CONTEXT_BYTES, `at most ${MAX_CONTEXT_BYTES} bytes in all`);

/** Unknown fields are rejected (not ignored): a typo such as `thread` must not start a new thread silently. */
export const askRequestSchema = z.strictObject({
  content: z.string().trim().min(1, "content must not be empty"),
  thread_id: z.string().refine(isThreadId, "not a thread id (thr_ followed by 32 hex digits)").optional(),
  context_variables: contextVariablesSchema.optional(),
});
export type AskRequest = z.infer<typeof askRequestSchema>;

export const askResponseSchema = z.object({
  thread_id: z.string(),
  response_id: z.string(),
  agent_id: z.string(),
  content: z.string(),
  timestamp: z.iso.datetime(),
});
export type AskResponse = z.infer<typeof askResponseSchema>;

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
  const result = askRequestSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => ({
      field: formatPath(i.code === "unrecognized_keys" ? [...i.path, ...i.keys] : i.path) || "(body)",
      problem: i.message,
    }));
    throw new InvalidRequestError(`invalid request: ${problems.map((p) => `${p.field}: ${p.problem}`).join("; ")}`, { problems });
  }
  return result.data;
}
