/** Replica queues on SQS: one queue per replica slot, each with a dead-letter queue. */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  ChangeMessageVisibilityCommand,
  type Message,
  type QueueAttributeName,
} from "@aws-sdk/client-sqs";
import type { AwsClients } from "./clients";

export interface QueueSettings {
  /** Longer than any answer takes; a crashed worker's message reappears after it. */
  visibilityTimeoutSeconds: number;
  /** Receives after which a message that keeps failing moves to the dead-letter queue. */
  maxReceiveCount: number;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = { visibilityTimeoutSeconds: 60, maxReceiveCount: 5 };

/** Creates (or finds: CreateQueue is idempotent for equal attributes) a queue and its DLQ. */
export async function ensureReplicaQueue(
  clients: AwsClients,
  name: string,
  dlqName: string,
  settings: QueueSettings = DEFAULT_QUEUE_SETTINGS,
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlq = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: dlqName, Attributes: { MessageRetentionPeriod: String(14 * 24 * 3600) } }),
  );
  const dlqUrl = dlq.QueueUrl!;
  const attrs = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }));
  const queue = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: attrs.Attributes!.QueueArn, maxReceiveCount: settings.maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, dlqUrl };
}

export class ReplicaQueue {
  constructor(
    private readonly clients: AwsClients,
    readonly url: string,
  ) {}

  async send(body: string): Promise<void> {
    await this.clients.sqs.send(new SendMessageCommand({ QueueUrl: this.url, MessageBody: body }));
  }

  /** One message at a time: with more, the local emulator waits out the whole poll. */
  async receive(waitSeconds: number, abortSignal?: AbortSignal): Promise<Message | undefined> {
    return (await this.receiveUpTo(1, waitSeconds, abortSignal))[0];
  }

  /** Up to `max` messages (1–10), waiting up to `waitSeconds` for the first. */
  async receiveUpTo(max: number, waitSeconds: number, abortSignal?: AbortSignal): Promise<Message[]> {
    // A call with options (the abort signal) bypasses, and clears, a client's cached middleware: long
    // polls go through a client of their own, so the other calls keep theirs.
    const out = await this.clients.sqsLongPoll.send(
      new ReceiveMessageCommand({
        QueueUrl: this.url,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        AttributeNames: ["ApproximateReceiveCount" as QueueAttributeName], // older servers (and the local emulator) read this name
      }),
      { abortSignal },
    );
    return out.Messages ?? [];
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: this.url, ReceiptHandle: receiptHandle }));
  }

  async extendVisibility(receiptHandle: string, seconds: number): Promise<void> {
    await this.clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.url, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
  }
}

/** Per-URL queue handles, so the router does not build one per ask. */
export function queueCache(clients: AwsClients): (url: string) => ReplicaQueue {
  const cache = new Map<string, ReplicaQueue>();
  return (url) => {
    let q = cache.get(url);
    if (!q) cache.set(url, (q = new ReplicaQueue(clients, url)));
    return q;
  };
}
