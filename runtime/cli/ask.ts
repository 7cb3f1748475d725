/**
 * `agentpool ask ENDPOINT MESSAGE`: asks the running local pool and prints the answer; `--thread`
 * continues a thread. The key: AGENTPOOL_API_KEY, else the dev key from the pool's admin file.
 */
import { runningPool, type PoolTarget } from "./pool-client";
import { fail, out, paint } from "./output";

export interface AskOptions extends PoolTarget {
  thread?: string;
  json?: boolean;
}

export async function askCommand(endpoint: string, words: string[], opts: AskOptions): Promise<void> {
  const content = words.join(" ").trim();
  if (!content) fail('usage: agentpool ask ENDPOINT "MESSAGE" [--thread THREAD_ID]', 2);
  const pool = runningPool(opts);
  const apiKey = process.env.AGENTPOOL_API_KEY || pool.apiKey;
  if (!apiKey) fail("no API key: set AGENTPOOL_API_KEY");
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(`${pool.url}/api/v1/ask/${encodeURIComponent(endpoint)}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": apiKey },
      body: JSON.stringify(opts.thread ? { content, thread_id: opts.thread } : { content }),
    });
  } catch (err) {
    return fail(`the local pool at ${pool.url} does not answer (${(err as Error).message})`);
  }
  const body = (await res.json()) as Record<string, string>;
  if (opts.json) {
    out(JSON.stringify(body));
    if (!res.ok) process.exit(1);
    return;
  }
  if (!res.ok) fail(`${res.status} ${body.error_code}: ${body.error}`);
  out(body.content);
  out(paint.dim(`— ${body.agent_id} in ${Date.now() - started} ms · thread ${body.thread_id} (continue with --thread ${body.thread_id})`));
}
