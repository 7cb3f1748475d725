/**
 * The router: a route table read top to bottom, shared by the Lambda handler and the local gateway.
 * Validation happens here, once; handlers receive parsed data; any error becomes
 * `{error, error_code, details}` in one place.
 */
import { randomUUID } from "node:crypto";
import { ApiError, MethodNotAllowedError, PayloadTooLargeError, RouteNotFoundError } from "../core/errors";
import { MAX_BODY_BYTES, parseAskRequest } from "../core/api";
import { isHealthy } from "../core/routing";
import { createAwsClients, type AwsClients } from "../aws/clients";
import { ThreadStore } from "../aws/thread-store";
import { ReplicaRegistry } from "../aws/replica-registry";
import { ApiKeyStore } from "../aws/api-key-store";
import { queueCache } from "../aws/queues";
import { AskService } from "./ask";
import { backend } from "./backend";
import { Authenticator, type Principal } from "./auth";
import { errorResponse, json, type HttpRequest, type HttpResponse } from "./http";
import type { RouterConfig } from "./config";

interface Route {
  method: string;
  pattern: RegExp;
  auth: boolean;
  handle: (ctx: { req: HttpRequest; params: string[]; principal?: Principal }) => Promise<HttpResponse>;
}

export interface Router {
  handle(req: HttpRequest): Promise<HttpResponse>;
  readonly clients: AwsClients;
}

export interface RouterOptions {
  clients?: AwsClients;
  now?: () => number;
  random?: () => number;
}

export function createRouter(config: RouterConfig, options: RouterOptions = {}): Router {
  const clients = options.clients ?? createAwsClients(config.aws);
  const now = options.now ?? Date.now;
  const threads = new ThreadStore(clients, config.tables.threads);
  const registry = new ReplicaRegistry(clients, config.tables.replicas);
  const auth = new Authenticator(new ApiKeyStore(clients, config.tables.apiKeys), config.keyCacheMs, now);
  const asks = new AskService({
    config,
    threads,
    registry,
    queue: queueCache(clients),
    now,
    random: options.random ?? Math.random,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });

  const routes: Route[] = [
    {
      method: "GET",
      pattern: /^\/healthz$/,
      auth: false,
      handle: async () => json(200, { status: "ok", stack: config.stack }),
    },
    {
      method: "POST",
      pattern: /^\/api\/v1\/ask\/([^/]+)$/,
      auth: true,
      handle: async ({ req, params, principal }) => {
        const body = parseAskRequest(req.body);
        return json(200, await asks.ask(principal!, decodeURIComponent(params[0]!), body));
      },
    },
    {
      method: "GET",
      pattern: /^\/api\/v1\/agents$/,
      auth: true,
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
  ];

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
    const principal = route.auth ? await auth.authenticate(req.headers["x-api-key"]) : undefined;
    const params = route.pattern.exec(req.path)!.slice(1);
    return route.handle({ req, params, principal });
  }

  return { handle, clients };
}
