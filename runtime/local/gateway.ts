/**
 * The local stand-in for API Gateway: turns each HTTP request into an HTTP API (payload format
 * 2.0) event and hands it to the router's Lambda handler, then writes the result back.
 * Before the router: the pool's admin routes (/admin/), and its local pages (the dashboard at /,
 * /metrics), served only to a loopback Host (a page of another site that rebinds its DNS name to
 * 127.0.0.1 is refused). Around the router: every response is reported to `observe` (metrics).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { LambdaHandler } from "../router/lambda";
import { performance } from "node:perf_hooks";
import type { HttpRequest, HttpResponse } from "../router/http";
import { MAX_BODY_BYTES } from "../core/api";
import { PayloadTooLargeError } from "../core/errors";

export interface Gateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Requests under /admin/ go to the local pool's own admin routes, never to the router. */
export type AdminHandler = (req: HttpRequest) => Promise<HttpResponse>;

/** The local pool's own pages; `forward` hands the request to a router route instead (the dashboard's chat). */
export type LocalResult = HttpResponse | { forward: { path: string; headers: Record<string, string> } } | undefined;

/** One router response as the client got it. */
export interface Observed {
  method: string;
  path: string;
  status: number;
  body: string;
  latencyMs: number;
  requestId: string;
}

export interface LocalRoutes {
  /** Paths the router does not own (undefined: not one of them, the router answers). */
  serve?: (req: HttpRequest) => Promise<LocalResult>;
  observe?: (o: Observed) => void;
}

export async function startGateway(
  handler: LambdaHandler,
  port: number,
  host = "127.0.0.1",
  admin?: AdminHandler,
  local: LocalRoutes = {},
): Promise<Gateway> {
  const server: Server = createServer((req, res) => void serve(handler, req, res, admin, local));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        server.closeIdleConnections?.();
        server.close(() => resolve());
        setTimeout(() => server.closeAllConnections?.(), 2_000).unref();
      }),
  };
}

/** Host headers the local pages answer to: a loopback name or address, with any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  return !!host && /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(host);
}

async function serve(handler: LambdaHandler, req: IncomingMessage, res: ServerResponse, admin: AdminHandler | undefined, local: LocalRoutes): Promise<void> {
  try {
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) {
      const err = new PayloadTooLargeError(Number(req.headers["content-length"] ?? MAX_BODY_BYTES + 1), MAX_BODY_BYTES);
      res.writeHead(err.status, { "content-type": "application/json", connection: "close" }).end(JSON.stringify(err.toBody()));
      return;
    }
    const event = toEvent(req, body);
    const started = performance.now();
    const httpReq: HttpRequest = { method: event.requestContext.http.method, path: event.rawPath, headers: event.headers, body, requestId: event.requestContext.requestId };
    const isLocal = event.rawPath.startsWith("/admin/") || event.rawPath === "/" || event.rawPath === "/metrics" || event.rawPath.startsWith("/dashboard/");
    if (isLocal && (admin || local.serve) && !isLoopbackHost(event.headers.host)) {
      res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ error: "local pages answer only to a loopback Host", error_code: "FORBIDDEN" }));
      return;
    }
    if (admin && event.rawPath.startsWith("/admin/")) {
      const out = await admin(httpReq);
      res.writeHead(out.status, out.headers).end(out.body);
      return;
    }
    const own = isLocal ? await local.serve?.(httpReq) : undefined;
    if (own && "forward" in own) {
      event.rawPath = own.forward.path;
      event.requestContext.http.path = own.forward.path;
      event.headers = own.forward.headers;
    } else if (own) {
      res.writeHead(own.status, own.headers).end(own.body);
      return;
    }
    const result = await handler(event);
    const status = result.statusCode ?? 200;
    res.writeHead(status, result.headers as Record<string, string>).end(result.body ?? "");
    local.observe?.({ method: httpReq.method, path: event.rawPath, status, body: result.body ?? "", latencyMs: performance.now() - started, requestId: httpReq.requestId });
  } catch (err) {
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "gateway error", error_code: "INTERNAL_ERROR", details: { reason: (err as Error).message } }));
    }
  }
}

/** Reads the body, or undefined as soon as it passes `limit` bytes (API Gateway rejects those too). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? 0) > limit) {
      req.resume();
      return resolve(undefined);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function toEvent(req: IncomingMessage, body: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
  const now = Date.now();
  const method = (req.method ?? "GET").toUpperCase();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: { method, path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? "", userAgent: headers["user-agent"] ?? "" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: body.length ? body : undefined,
    isBase64Encoded: false,
  };
}
