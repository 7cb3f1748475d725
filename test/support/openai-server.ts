/**
 * A real, local OpenAI-compatible HTTP server for tests: `POST /v1/chat/completions` answering in
 * the shape of the OpenAI API, so the official `openai` client (and anything built on it) is
 * exercised over HTTP instead of through a hand-made mock.
 *
 *   const server = await startOpenAiCompatibleServer({ reply: (req) => `hi ${req.body.model}` });
 *   const provider = new OpenAiProvider({ baseUrl: server.url, apiKey: "sk-test", ... });
 *   server.failNext(2, 500);            // the next two requests get a 500
 *   server.hangNext();                  // the next request never gets an answer
 *   server.requests[0].body.messages    // what the client really sent
 *   await server.close();
 *
 * Scripted behaviours (`failNext`, `hangNext`, `malformNext`) are consumed one per request, in
 * the order they were scripted; when none is left the server answers normally.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The parts of a chat completion request the tests look at; the rest is kept in `raw`. */
export interface ChatCompletionRequestBody {
  model: string;
  messages: { role: string; content: string }[];
  temperature?: number;
  max_completion_tokens?: number;
  max_tokens?: number;
  [key: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The bearer token of the `Authorization` header, if any. */
  bearer: string | undefined;
  /** The parsed JSON body (undefined when the body was not JSON). */
  body: ChatCompletionRequestBody;
  raw: string;
  /** `Date.now()` when the request was fully received. */
  receivedAt: number;
}

export type MalformedKind =
  /** 200 with a body that is not JSON. */
  | "invalid-json"
  /** 200 with a well-formed completion whose message content is null. */
  | "null-content"
  /** 200 with `choices: []`. */
  | "no-choices";

export type Behaviour =
  | { kind: "fail"; status: number; message?: string | ((req: RecordedRequest) => string); headers?: Record<string, string> }
  | { kind: "hang" }
  | { kind: "malformed"; variant: MalformedKind };

export interface OpenAiServerOptions {
  /** The assistant's answer; by default `echo: <last user message>`. */
  reply?: string | ((req: RecordedRequest) => string);
  /** When set, requests whose bearer token differs get a 401 like OpenAI's (key masked). */
  apiKey?: string;
  /** Delay before every normal answer, in ms (default 0). */
  latencyMs?: number;
  /**
   * `retry-after-ms` sent with scripted 429/5xx answers, so the client's retries do not sleep
   * its default 0.5 s+ backoff (default 0). Set to `null` to send no retry header at all.
   */
  retryAfterMs?: number | null;
}

export interface OpenAiCompatibleServer {
  /** Base URL to hand to an OpenAI client or provider: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order (including failed and hanging ones). */
  readonly requests: RecordedRequest[];
  /** Chat completion requests only. */
  completions(): RecordedRequest[];
  /** The next `n` requests get `status` with an OpenAI-shaped error body. */
  failNext(n: number, status?: number, options?: { message?: string | ((req: RecordedRequest) => string); headers?: Record<string, string> }): void;
  /** The next `n` requests (default 1) are received but never answered (until `close`). */
  hangNext(n?: number): void;
  /** The next `n` requests get a 200 whose content is malformed in the given way. */
  malformNext(n: number, variant: MalformedKind): void;
  /** Queue any behaviour for the next request. */
  script(...behaviours: Behaviour[]): void;
  /** Change the normal answer. */
  setReply(reply: string | ((req: RecordedRequest) => string)): void;
  /** Change the delay before every normal answer. */
  setLatency(ms: number): void;
  /** Resolves once `count` requests in all have been received (or rejects after `timeoutMs`). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Forget recorded requests and scripted behaviours. */
  reset(): void;
  /** Stops listening and drops every open connection, hanging ones included. */
  close(): Promise<void>;
}

export async function startOpenAiCompatibleServer(options: OpenAiServerOptions = {}): Promise<OpenAiCompatibleServer> {
  let reply = options.reply ?? echoReply;
  let latencyMs = options.latencyMs ?? 0;
  const retryAfterMs = options.retryAfterMs === undefined ? 0 : options.retryAfterMs;
  const requests: RecordedRequest[] = [];
  const scripted: Behaviour[] = [];
  const waiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  let nextId = 1;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const path = (req.url ?? "/").split("?")[0]!;
      const auth = req.headers.authorization;
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path,
        headers: req.headers,
        bearer: auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined,
        body: safeJson(raw) as ChatCompletionRequestBody,
        raw,
        receivedAt: Date.now(),
      };
      requests.push(recorded);
      for (const w of [...waiters]) w();

      if (path !== "/v1/chat/completions") return sendError(res, 404, `Unknown request URL: ${req.method} ${path}`, "invalid_request_error");
      if (req.method !== "POST") return sendError(res, 405, `Method ${req.method} not allowed`, "invalid_request_error");

      const behaviour = scripted.shift();
      if (behaviour?.kind === "hang") return; // never answered; close() drops the socket
      if (behaviour?.kind === "fail") {
        const message = typeof behaviour.message === "function" ? behaviour.message(recorded) : (behaviour.message ?? `scripted failure ${behaviour.status}`);
        const retryHeaders: Record<string, string> = retryAfterMs === null ? {} : { "retry-after-ms": String(retryAfterMs) };
        return sendError(res, behaviour.status, message, errorType(behaviour.status), { ...retryHeaders, ...behaviour.headers });
      }

      if (options.apiKey !== undefined && recorded.bearer !== options.apiKey) {
        return sendError(res, 401, `Incorrect API key provided: ${mask(recorded.bearer ?? "")}.`, "invalid_request_error", {}, "invalid_api_key");
      }
      if (!recorded.body || typeof recorded.body !== "object" || typeof recorded.body.model !== "string" || !Array.isArray(recorded.body.messages)) {
        return sendError(res, 400, "'model' and 'messages' are required properties", "invalid_request_error");
      }

      const answer = () => {
        if (behaviour?.kind === "malformed") return sendMalformed(res, behaviour.variant, recorded.body.model);
        const content = typeof reply === "function" ? reply(recorded) : reply;
        sendJson(res, 200, completion(`chatcmpl-${nextId++}`, recorded.body.model, content));
      };
      if (latencyMs > 0) {
        const t = setTimeout(() => {
          timers.delete(t);
          answer();
        }, latencyMs);
        timers.add(t);
      } else answer();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const push = (n: number, b: Behaviour) => {
    for (let i = 0; i < n; i++) scripted.push(b);
  };

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    completions: () => requests.filter((r) => r.path === "/v1/chat/completions"),
    failNext: (n, status = 500, opts = {}) => push(n, { kind: "fail", status, ...opts }),
    hangNext: (n = 1) => push(n, { kind: "hang" }),
    malformNext: (n, variant) => push(n, { kind: "malformed", variant }),
    script: (...behaviours) => scripted.push(...behaviours),
    setReply: (r) => {
      reply = r;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    waitForRequests: (count, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.length >= count) return resolve();
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the OpenAI-compatible server got ${requests.length} requests, not ${count}, within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      }),
    reset: () => {
      requests.length = 0;
      scripted.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The default answer: `echo: <last user message>`. */
export function echoReply(req: RecordedRequest): string {
  const lastUser = [...(req.body.messages ?? [])].reverse().find((m) => m.role === "user");
  return `echo: ${lastUser?.content ?? ""}`;
}

function completion(id: string, model: string, content: string | null, choices = true) {
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: choices
      ? [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }]
      : [],
    usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
  };
}

function sendMalformed(res: ServerResponse, variant: MalformedKind, model: string): void {
  if (variant === "invalid-json") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"id": "chatcmpl-broken", "choices": [');
    return;
  }
  sendJson(res, 200, completion("chatcmpl-malformed", model, null, variant !== "no-choices"));
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": `req_test_${Date.now()}`, ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string, type: string, headers: Record<string, string> = {}, code: string | null = null): void {
  sendJson(res, status, { error: { message, type, param: null, code } }, headers);
}

function errorType(status: number): string {
  if (status === 429) return "rate_limit_exceeded";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** As OpenAI does: the first few and last four characters of a key, the rest starred. */
function mask(key: string): string {
  if (key.length <= 8) return "*".repeat(key.length);
  return `${key.slice(0, 3)}${"*".repeat(key.length - 7)}${key.slice(-4)}`;
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
