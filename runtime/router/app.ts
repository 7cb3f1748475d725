/**
 * The router: a route table read top to bottom, shared by the Lambda handler and the local gateway.
 * Validation happens here, once; handlers receive parsed data; any error becomes
 * `{error, error_code, details}` in one place. Every authenticated response carries the key's
 * `X-RateLimit-*` headers (asks count against the limit; other routes only report it).
 */
import { randomUUID } from "node:crypto";
import {
  ApiError,
  CallbackNotFoundError,
  InvalidApiKeyError,
  InvalidRequestError,
  KeyNotFoundError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
  ThreadNotFoundError,
  WebhookNotConfiguredError,
} from "../core/errors";
import {
  MAX_BODY_BYTES,
  createKeyRequestSchema,
  historyQuerySchema,
  parseAskRequest,
  parseBody,
  parseIdempotencyKey,
  parseValue,
  webhookTestRequestSchema,
  type AskRequest,
} from "../core/api";
import { isCallbackId, isThreadId, newCallbackId } from "../core/ids";
import { isAdminKey } from "../core/keys";
import { requestFingerprint } from "../core/idempotency";
import { openApiDocument } from "../core/openapi";
import { isHealthy } from "../core/routing";
import { createAwsClients, type AwsClients } from "../aws/clients";
import { ThreadStore } from "../aws/thread-store";
import { ReplicaRegistry } from "../aws/replica-registry";
import { ApiKeyStore } from "../aws/api-key-store";
import { RateLimitStore } from "../aws/rate-limit-store";
import { IdempotencyStore } from "../aws/idempotency-store";
import { CallbackStore } from "../aws/callback-store";
import { AmbiguousPrefixError, createApiKey, listApiKeys, revokeApiKey } from "../aws/api-keys";
import { queueCache } from "../aws/queues";
import { checkWebhookUrl, dnsResolver, sendWebhook, UnsafeWebhookUrlError, type Resolver } from "../webhooks";
import { AskService, type AskHooks } from "./ask";
import { backend } from "./backend";
import { Authenticator, type Principal } from "./auth";
import { RateLimiter } from "./rate-limit";
import { Idempotency } from "./idempotency";
import { decodeCursor, encodeCursor } from "./cursor";
import { errorResponse, json, type HttpRequest, type HttpResponse } from "./http";
import type { RouterConfig } from "./config";

interface RouteContext {
  req: HttpRequest;
  params: string[];
  principal: Principal;
  /** Rate-limit headers this handler already knows (asks); others get the key's current window. */
  rateHeaders?: Record<string, string>;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** `key`: a customer key (X-API-Key); `admin`: X-Admin-Key whose hash `admin.keyHashes` lists; `none`: public. */
  auth: "key" | "admin" | "none";
  handle: (ctx: RouteContext) => Promise<HttpResponse>;
}

export interface Router {
  handle(req: HttpRequest): Promise<HttpResponse>;
  readonly clients: AwsClients;
}

export interface RouterOptions {
  clients?: AwsClients;
  now?: () => number;
  random?: () => number;
  /** DNS for webhook URL checks (tests inject one; real DNS otherwise). */
  resolve?: Resolver;
}

export function createRouter(config: RouterConfig, options: RouterOptions = {}): Router {
  const clients = options.clients ?? createAwsClients(config.aws);
  const now = options.now ?? Date.now;
  const threads = new ThreadStore(clients, config.tables.threads);
  const registry = new ReplicaRegistry(clients, config.tables.replicas);
  const keys = new ApiKeyStore(clients, config.tables.apiKeys);
  const auth = new Authenticator(keys, config.keyCacheMs, now);
  const callbacks = new CallbackStore(clients, config.tables.apiState);
  const limiter = new RateLimiter(new RateLimitStore(clients, config.tables.apiState), config.rateLimits, now);
  const webhookPolicy = { allowInsecureLocal: config.webhooks.allowInsecureLocal, resolve: options.resolve ?? dnsResolver };
  const checkUrl = async (url: string, field = "webhook_url") => {
    try {
      await checkWebhookUrl(url, webhookPolicy);
    } catch (err) {
      if (!(err instanceof UnsafeWebhookUrlError)) throw err;
      throw new InvalidRequestError(`invalid request: ${field}: ${err.reason}`, { problems: [{ field, problem: err.reason }] });
    }
  };
  const asks = new AskService({
    config,
    threads,
    registry,
    callbacks,
    limiter,
    checkWebhookUrl: (url) => checkUrl(url),
    queue: queueCache(clients),
    now,
    random: options.random ?? Math.random,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
  const idempotency = new Idempotency({
    store: new IdempotencyStore(clients, config.tables.apiState),
    now,
    leaseMs: config.deadlineMs + 10_000,
    answerOf: (ask) => asks.answerOf(ask),
  });

  /** Both ask routes: validate, then idempotency, then the key's rate limit, then the ask. */
  const askRoute =
    (run: (principal: Principal, target: string, body: AskRequest, hooks: AskHooks) => ReturnType<AskService["ask"]>) =>
    async (ctx: RouteContext): Promise<HttpResponse> => {
      const { req, principal } = ctx;
      const body = parseAskRequest(req.body);
      const key = parseIdempotencyKey(req.headers["idempotency-key"]);
      const target = decodeURIComponent(ctx.params[0]!);
      return idempotency.run(principal.owner, key, requestFingerprint(req.method, req.path, body), async (hooks) => {
        ctx.rateHeaders = await limiter.consumeKey(principal);
        const outcome = await run(principal, target, body, hooks);
        return json(outcome.status, outcome.body);
      });
    };

  const allRoutes: Route[] = [
    {
      method: "GET",
      pattern: /^\/healthz$/,
      auth: "none",
      handle: async () => json(200, { status: "ok", stack: config.stack }),
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/openapi\.json$/,
      auth: "none",
      handle: async () => json(200, openApiDocument()),
    },
    {
      method: "POST",
      pattern: /^\/api\/v1\/ask\/([^/]+)$/,
      auth: "key",
      handle: askRoute((p, endpoint, body, hooks) => asks.ask(p, endpoint, body, hooks)),
    },
    {
      method: "POST",
      pattern: /^\/api\/v1\/agents\/([^/]+)\/messages$/,
      auth: "key",
      handle: askRoute((p, agentId, body, hooks) => asks.askAgent(p, agentId, body, hooks)),
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/agents$/,
      auth: "key",
      handle: async () => {
        const rows = await backend("the replica registry", () => registry.listAll());
        const t = now();
        return json(200, {
          agents: rows.map((r) => ({
            agent_id: r.agentId,
            deployment: r.deployment,
            team: r.team,
            agent_type: r.agentType,
            endpoint: r.endpoint,
            state: r.state,
            healthy: isHealthy(r, t, config.heartbeatStaleMs),
            queue_depth: r.depth,
            last_heartbeat: r.heartbeatAt ? new Date(r.heartbeatAt).toISOString() : null,
          })),
        });
      },
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/conversations\/([^/]+)\/history$/,
      auth: "key",
      handle: async ({ req, params, principal }) => {
        const threadId = decodeURIComponent(params[0]!);
        const query = parseValue(historyQuerySchema, req.query ?? {});
        const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
        if (!isThreadId(threadId)) throw new ThreadNotFoundError();
        const meta = await backend("the thread store", () => threads.getMeta(threadId));
        if (!meta || meta.owner !== principal.owner) throw new ThreadNotFoundError();
        const page = await backend("the thread store", () => threads.historyPage(threadId, query.limit, after));
        return json(200, {
          thread_id: threadId,
          messages: page.turns.map((t) => ({
            role: t.role,
            content: t.content,
            response_id: t.responseId,
            ...(t.agentId ? { agent_id: t.agentId } : {}),
            timestamp: new Date(t.at).toISOString(),
          })),
          next_cursor: page.next ? encodeCursor(page.next) : null,
        });
      },
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/callbacks\/([^/]+)$/,
      auth: "key",
      handle: async ({ params, principal }) => {
        const callbackId = decodeURIComponent(params[0]!);
        if (!isCallbackId(callbackId)) throw new CallbackNotFoundError();
        const cb = await backend("the callback store", () => callbacks.get(callbackId));
        if (!cb || cb.owner !== principal.owner) throw new CallbackNotFoundError();
        return json(200, {
          callback_id: cb.callbackId,
          status: cb.status,
          attempts: cb.attempts,
          thread_id: cb.threadId,
          response_id: cb.responseId,
          last_status_code: cb.lastStatusCode ?? null,
          last_error: cb.lastError ?? null,
          created_at: new Date(cb.createdAt).toISOString(),
          delivered_at: cb.deliveredAt ? new Date(cb.deliveredAt).toISOString() : null,
        });
      },
    },
    {
      method: "POST",
      pattern: /^\/api\/v1\/webhook\/test$/,
      auth: "key",
      handle: async (ctx) => {
        const { req, principal } = ctx;
        const body = req.body?.trim() ? parseBody(webhookTestRequestSchema, req.body, '{"webhook_url": "https://example.com/hook"}') : {};
        const url = body.webhook_url ?? principal.webhookUrl;
        if (!url) throw new WebhookNotConfiguredError();
        await checkUrl(url);
        // It makes an outbound request on the caller's say-so: it counts like an ask.
        ctx.rateHeaders = await limiter.consumeKey(principal);
        const record = await backend("the API key store", () => keys.get(principal.keyHash));
        if (!record?.webhookSecret) throw new WebhookNotConfiguredError();
        const callbackId = newCallbackId();
        const payload = JSON.stringify({ type: "webhook.test", callback_id: callbackId, timestamp: new Date(now()).toISOString() });
        const outcome = await sendWebhook(url, payload, record.webhookSecret, { "X-Webhook-Id": callbackId, "X-Webhook-Attempt": "1" }, {
          ...webhookPolicy,
          timeoutMs: config.webhooks.timeoutMs,
        });
        return json(200, { delivered: outcome.ok, status_code: outcome.statusCode ?? null, error: outcome.error ?? null, callback_id: callbackId });
      },
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/admin\/keys$/,
      auth: "admin",
      handle: async () => json(200, { keys: await backend("the API key store", () => listApiKeys(keys)) }),
    },
    {
      method: "POST",
      pattern: /^\/api\/v1\/admin\/keys$/,
      auth: "admin",
      handle: async ({ req }) => {
        const body = parseBody(createKeyRequestSchema, req.body, '{"name": "acme production"}');
        if (body.webhook_url) await checkUrl(body.webhook_url);
        const created = await backend("the API key store", () =>
          createApiKey(keys, { name: body.name, owner: body.owner, rateLimitPerMinute: body.rate_limit_per_minute, webhookUrl: body.webhook_url }, now()),
        );
        return json(201, { api_key: created.apiKey, webhook_secret: created.webhookSecret, key: created.key });
      },
    },
    {
      method: "DELETE",
      pattern: /^\/api\/v1\/admin\/keys\/([^/]+)$/,
      auth: "admin",
      handle: async ({ params }) => {
        const prefix = decodeURIComponent(params[0]!);
        try {
          const revoked = await backend("the API key store", () => revokeApiKey(keys, prefix, now()));
          if (!revoked) throw new KeyNotFoundError(prefix);
          return json(200, { key: revoked });
        } catch (err) {
          if (!(err instanceof AmbiguousPrefixError)) throw err;
          throw new InvalidRequestError(err.message, { matches: err.matches.map((k) => ({ prefix: k.prefix, name: k.name, created_at: k.created_at })) });
        }
      },
    },
  ];
  // Without admin keys the key-management routes do not exist (404, as on a deployed pool).
  const routes = allRoutes.filter((r) => r.auth !== "admin" || config.admin.keyHashes.length > 0);

  async function handle(req: HttpRequest): Promise<HttpResponse> {
    const requestId = req.requestId || randomUUID();
    let res: HttpResponse;
    try {
      res = await dispatch(req);
    } catch (err) {
      if (err instanceof ApiError) {
        res = errorResponse(err);
      } else {
        // Never the request body or key: only what failed.
        console.error(JSON.stringify({ level: "error", msg: "unhandled router error", requestId, error: (err as Error).message }));
        res = json(500, { error: "internal error", error_code: "INTERNAL_ERROR", details: { request_id: requestId } });
      }
    }
    res.headers["x-request-id"] = requestId;
    return res;
  }

  async function dispatch(req: HttpRequest): Promise<HttpResponse> {
    const matching = routes.filter((r) => r.pattern.test(req.path));
    if (matching.length === 0) throw new RouteNotFoundError(req.method, req.path);
    const route = matching.find((r) => r.method === req.method);
    if (!route) throw new MethodNotAllowedError(req.method, req.path, matching.map((r) => r.method));
    const bytes = req.body ? Buffer.byteLength(req.body) : 0;
    if (bytes > MAX_BODY_BYTES) throw new PayloadTooLargeError(bytes, MAX_BODY_BYTES);
    const params = route.pattern.exec(req.path)!.slice(1);
    const key = req.headers["x-api-key"];
    if (route.auth === "none") return route.handle({ req, params, principal: undefined as unknown as Principal });
    if (route.auth === "admin") {
      if (!isAdminKey(req.headers["x-admin-key"], config.admin.keyHashes)) throw new InvalidApiKeyError("X-Admin-Key");
      return route.handle({ req, params, principal: undefined as unknown as Principal });
    }
    const principal = await auth.authenticate(key);
    const ctx: RouteContext = { req, params, principal };
    let res: HttpResponse;
    try {
      res = await route.handle(ctx);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      res = errorResponse(err);
    }
    const rate = ctx.rateHeaders ?? (await limiter.peekKey(principal).catch(() => ({})));
    res.headers = { ...rate, ...res.headers };
    return res;
  }

  return { handle, clients };
}
