/**
 * The local pool's admin routes, on the gateway's loopback port, guarded by an admin key that
 * only the user running the pool can read (`<data-dir>/<stack>/admin.json`, mode 0600).
 *   GET  /admin/v1/deployments                               desired and actual replicas
 *   POST /admin/v1/deployments/{team}/{agentType}/scale      {"replicas": N}
 *   GET  /admin/v1/status                                    team → deployment → replicas, alerts, chart series
 *   GET  /admin/v1/alerts                                    alerts firing and pending
 * The two read-only views also accept the dashboard's token (X-Dashboard-Token, made at each start
 * and served only inside the dashboard page), so the page never holds the admin key.
 */
import { z } from "zod";
import { digestsEqual, hashApiKey } from "../core/keys";
import { ApiError, InvalidRequestError, MethodNotAllowedError, RouteNotFoundError } from "../core/errors";
import { formatIssues } from "../core/spec";
import { errorResponse, json, type HttpRequest, type HttpResponse } from "../router/http";

export interface DeploymentStatus {
  deployment: string;
  desired: number;
  /** Replicas the supervisor keeps running (draining ones are gone from here), with their process. */
  replicas: { agent_id: string; pid?: number }[];
}

export interface AdminOperations {
  deployments(): DeploymentStatus[];
  status(): Promise<unknown>;
  alerts(): Promise<unknown>;
  scale(deployment: string, replicas: number): Promise<{ deployment: string; from: number; to: number; started: string[]; draining: string[] }>;
}

const scaleSchema = z.strictObject({ replicas: z.number().int().min(0).max(50) });

export class AdminError extends ApiError {}

const READ_ONLY: Partial<Record<string, (ops: AdminOperations) => Promise<unknown>>> = {
  "/admin/v1/status": (ops) => ops.status(),
  "/admin/v1/alerts": (ops) => ops.alerts(),
};

export function adminHandler(adminKey: string, ops: AdminOperations, dashboardToken?: string): (req: HttpRequest) => Promise<HttpResponse> {
  const keyHash = hashApiKey(adminKey);
  const tokenHash = dashboardToken && hashApiKey(dashboardToken);
  const matches = (given: string | undefined, hash: string | undefined) => !!given && !!hash && digestsEqual(hashApiKey(given), hash);
  return async (req) => {
    try {
      const view = READ_ONLY[req.path];
      const isAdmin = matches(req.headers["x-admin-key"], keyHash);
      if (!isAdmin && !(view !== undefined && matches(req.headers["x-dashboard-token"], tokenHash))) {
        throw new AdminError(401, "INVALID_API_KEY", "missing or invalid X-Admin-Key header");
      }
      if (view) {
        if (req.method !== "GET") throw new MethodNotAllowedError(req.method, req.path, ["GET"]);
        return json(200, await view(ops), { "cache-control": "no-store" });
      }
      if (req.path === "/admin/v1/deployments") {
        if (req.method !== "GET") throw new MethodNotAllowedError(req.method, req.path, ["GET"]);
        return json(200, { deployments: ops.deployments() });
      }
      const m = /^\/admin\/v1\/deployments\/([^/]+)\/([^/]+)\/scale$/.exec(req.path);
      if (!m) throw new RouteNotFoundError(req.method, req.path);
      if (req.method !== "POST") throw new MethodNotAllowedError(req.method, req.path, ["POST"]);
      let body: unknown;
      try {
        body = JSON.parse(req.body ?? "");
      } catch {
        throw new InvalidRequestError('body must be JSON, e.g. {"replicas": 5}');
      }
      const parsed = scaleSchema.safeParse(body);
      if (!parsed.success) throw new InvalidRequestError(formatIssues(parsed.error).join("; "));
      const deployment = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      if (!ops.deployments().some((d) => d.deployment === deployment)) {
        throw new AdminError(404, "ROUTE_NOT_FOUND", `no deployment "${deployment}"`, { deployments: ops.deployments().map((d) => d.deployment) });
      }
      return json(200, await ops.scale(deployment, parsed.data.replicas));
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err);
      return json(500, { error: (err as Error).message, error_code: "INTERNAL_ERROR" });
    }
  };
}
