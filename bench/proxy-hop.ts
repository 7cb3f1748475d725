/**
 * The cheapest thing that could stand between a caller and a model: a bare node:http reverse proxy
 * (request piped to the upstream, response piped back) in front of an upstream node:http server
 * that answers after the same simulated provider latency. Measured in the same process and run as
 * the router, so "router overhead ÷ proxy-hop overhead" compares like with like:
 *
 *   proxy-hop overhead = latency through the proxy − provider latency
 *
 * (the same definition as the router's overhead; the direct upstream call is shown too).
 */
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { postJson, runConcurrent, summarize, type Summary } from "./lib";

export interface ProxyHopReport {
  /** Latency calling the upstream directly (no proxy), c=1. */
  direct: Summary;
  /** Latency through the proxy, by concurrency. */
  proxied: Record<number, Summary>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function runProxyHop(opts: { providerMs: number; runs: Record<number, number> }): Promise<ProxyHopReport> {
  const upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      setTimeout(() => {
        const body = JSON.stringify({ content: "simulated answer" });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
      }, opts.providerMs);
    });
  });
  const upstreamPort = await listen(upstream);
  const upstreamAgent = new Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = createServer((req, res) => {
    const out = request(
      { host: "127.0.0.1", port: upstreamPort, path: req.url, method: req.method, headers: req.headers, agent: upstreamAgent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on("error", () => res.writeHead(502).end());
    req.pipe(out);
  });
  proxy.keepAliveTimeout = 65_000;
  const proxyPort = await listen(proxy);
  const client = new Agent({ keepAlive: true, maxSockets: 256 });
  const call = async (port: number) => {
    const res = await postJson(client, port, "/v1/answer", { content: "question" });
    if (res.status !== 200) throw new Error(`proxy hop: status ${res.status}`);
  };
  try {
    await runConcurrent(40, 8, () => call(proxyPort)); // warm-up: JIT, sockets
    const direct = summarize((await runConcurrent(30, 1, () => call(upstreamPort))).durations);
    const proxied: Record<number, Summary> = {};
    for (const [c, total] of Object.entries(opts.runs)) proxied[Number(c)] = summarize((await runConcurrent(total, Number(c), () => call(proxyPort))).durations);
    return { direct, proxied };
  } finally {
    client.destroy();
    upstreamAgent.destroy();
    await Promise.all([close(proxy), close(upstream)]);
  }
}
