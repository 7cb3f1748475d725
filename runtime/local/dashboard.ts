/**
 * The local dashboard: static files (no build step) under /dashboard/, the page at /, and the
 * chat's ask route. How the page authenticates:
 *   - at each start the pool makes a random dashboard token; the gateway writes it into the page
 *     it serves at / (a <meta> tag). Another site's page cannot read ours (same-origin policy; no
 *     CORS headers are ever sent), and a DNS-rebinding page is refused by the gateway's loopback
 *     Host check, so only a page the user opened on 127.0.0.1 holds it;
 *   - the token is sent in an X-Dashboard-Token header, which a cross-site form cannot set and a
 *     cross-site fetch cannot send without a CORS preflight we never answer;
 *   - it reads the status and alerts views, and asks through POST /dashboard/api/ask/{endpoint},
 *     which the gateway forwards to the router with the dev key added server-side. Neither the
 *     admin key (scaling) nor the dev key reaches the browser.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { digestsEqual, hashApiKey } from "../core/keys";
import type { HttpRequest, HttpResponse } from "../router/http";
import type { LocalResult } from "./gateway";

const DIR = join(__dirname, "dashboard");
const FILES: Record<string, string> = {
  "/dashboard/app.js": "text/javascript; charset=utf-8",
  "/dashboard/app.css": "text/css; charset=utf-8",
};

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export interface DashboardOptions {
  token: string;
  devKey: string;
}

export function dashboardRoutes(options: DashboardOptions): (req: HttpRequest) => Promise<LocalResult> {
  const tokenHash = hashApiKey(options.token);
  const page = readFileSync(join(DIR, "index.html"), "utf8").replace("{{DASHBOARD_TOKEN}}", options.token);
  const text = (status: number, type: string, body: string): HttpResponse => ({ status, headers: { "content-type": type, ...SECURITY_HEADERS }, body });
  return async (req) => {
    if (req.path === "/" || req.path === "/dashboard/") {
      if (req.method !== "GET") return text(405, "text/plain", "method not allowed");
      return text(200, "text/html; charset=utf-8", page);
    }
    const type = FILES[req.path];
    if (type) return text(200, type, readFileSync(join(DIR, req.path.slice("/dashboard/".length)), "utf8"));
    const ask = /^\/dashboard\/api\/ask\/([^/]+)$/.exec(req.path);
    if (ask && req.method === "POST") {
      const given = req.headers["x-dashboard-token"];
      if (!given || !digestsEqual(hashApiKey(given), tokenHash)) {
        return { status: 401, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: "missing or invalid X-Dashboard-Token header", error_code: "INVALID_API_KEY" }) };
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== "x-dashboard-token" && k !== "cookie") headers[k] = v;
      headers["x-api-key"] = options.devKey;
      return { forward: { path: `/api/v1/ask/${ask[1]}`, headers } };
    }
    return text(404, "text/plain", "not found");
  };
}
