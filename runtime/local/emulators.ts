/**
 * DynamoDB (dynalite) and SQS (local-aws-sqs) emulators, in this process, on loopback ports.
 * Everything talks to them through the real AWS SDK clients, as on AWS.
 */
import type { Server } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { mkdirSync } from "node:fs";
import { createSqsServer } from "local-aws-sqs";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => Server = require("dynalite");

export interface Emulators {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  /** Where DynamoDB keeps its data (LevelDB); in memory when absent. */
  dataDir?: string;
  /** SQS port; 0 picks a free one. */
  sqsPort?: number;
}

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const dynamo = dynalite({ path: options.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    dynamo.once("error", reject);
    dynamo.listen(0, "127.0.0.1", () => resolve());
  });
  const sqsPort = options.sqsPort ?? (await freePort());
  const sqs = await createSqsServer({ port: sqsPort, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
  return {
    dynamodbEndpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    sqsEndpoint: `http://127.0.0.1:${sqsPort}`,
    close: async () => {
      await Promise.all([closeServer(sqs), closeServer(dynamo)]);
      // dynalite keeps its LevelDB open until the process ends; closing the server releases the port.
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** A free loopback port (local-aws-sqs builds queue URLs from the port it was given). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
