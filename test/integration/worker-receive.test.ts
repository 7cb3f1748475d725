/** How a replica takes asks off its queue: one long poll at a time, never more asks than answer slots. */
import { buildWorker } from "../../runtime/agent/build";
import { workerConfigSchema } from "../../runtime/agent/config";
import { createAwsClients, destroyAwsClients } from "../../runtime/aws/clients";
import { ensureReplicaQueue, ReplicaQueue } from "../../runtime/aws/queues";
import { ReplicaRegistry } from "../../runtime/aws/replica-registry";
import { ThreadStore } from "../../runtime/aws/thread-store";
import type { CompletionRequest, LlmProvider } from "../../runtime/llm";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";
import { eventually } from "./api-harness";

/** Counts the answers it is working on at once. */
class CountingProvider implements LlmProvider {
  readonly name = "counting";
  readonly kind = "simulator" as const;
  now = 0;
  most = 0;
  async complete(_req: CompletionRequest): Promise<string> {
    this.most = Math.max(this.most, ++this.now);
    await new Promise((r) => setTimeout(r, 300));
    this.now -= 1;
    return "done";
  }
}

let aws: EmulatedAws;
beforeAll(async () => {
  aws = await startEmulatedAws();
});
afterAll(() => aws.close());

test("a replica with 4 answer slots answers 4 asks at a time, and idles on one long poll, not four", async () => {
  const agentId = "recv-agent-1";
  const { queueUrl } = await ensureReplicaQueue(aws.clients, `${aws.tables.threads}-recv`, `${aws.tables.threads}-recv-dlq`);
  const clients = createAwsClients({ dynamodbEndpoint: aws.emulators.dynamodbEndpoint, sqsEndpoint: aws.emulators.sqsEndpoint });
  const provider = new CountingProvider();
  const worker = buildWorker(
    workerConfigSchema.parse({
      stack: "it", tables: aws.tables, endpoint: "recv", team: "t",
      agentType: { name: "A", slug: "a", endpointSlug: "recv", systemPrompt: "You help.", provider: "counting", model: "m" },
      provider: { name: "counting", kind: "simulator" },
      maxConcurrency: 4, slots: [{ agentId, slot: 1, queueUrl }], waitSeconds: 1, heartbeatMs: 60_000,
    }),
    clients,
    { owner: "recv-test", provider, log: () => undefined },
  );
  await worker.start();
  try {
    const receives = () => clients.calls.byOperation.get("sqs:ReceiveMessageCommand") ?? 0;
    const idleFrom = receives();
    await new Promise((r) => setTimeout(r, 2_100));
    const idleReceives = receives() - idleFrom;

    const threads = new ThreadStore(aws.clients, aws.tables.threads);
    const queue = new ReplicaQueue(aws.clients, queueUrl);
    const now = Date.now();
    const ids = Array.from({ length: 10 }, (_, i) => `th_recv_${i}`);
    for (const [i, threadId] of ids.entries()) {
      await queue.send(JSON.stringify({ v: 1, response_id: `rs_${i}`, thread_id: threadId, owner: "o", endpoint: "recv", agent_id: agentId, content: "hi", accepted_at: now, deadline_at: now + 60_000, first_turn: true }));
    }
    await eventually(async () => (await Promise.all(ids.map((t, i) => threads.getReply(t, `rs_${i}`)))).every((r) => r?.status === "answered"), 10_000);

    expect(idleReceives).toBeLessThanOrEqual(3); // about one per second of waiting (was one per slot)
    expect(provider.most).toBe(4);
    expect((await new ReplicaRegistry(aws.clients, aws.tables.replicas).get("recv", agentId))?.state).toBe("running");
  } finally {
    await worker.stop("finish");
    destroyAwsClients(clients);
  }
});
