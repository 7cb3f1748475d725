/**
 * Key schemas of the pool's DynamoDB tables. The Pulumi components (issue 4) and the local pool
 * both create tables from these definitions.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import type { TableNames } from "../core/naming";
import type { AwsClients } from "./clients";

export interface TableDefinition {
  hashKey: string;
  rangeKey?: string;
  /** Epoch-seconds attribute DynamoDB's TTL deletes by on AWS (locally reads check the time instead). */
  ttlAttribute?: string;
}

export const TABLE_KEYS: Record<keyof TableNames, TableDefinition> = {
  /** pk thread_id; sk `META` | `T#<accepted>#<response>#<0|1>` (a turn) | `R#<response>` (a reply). */
  threads: { hashKey: "thread_id", rangeKey: "sk" },
  /** pk endpoint slug; sk agent id: the router reads an endpoint's replicas in one consistent Query. */
  replicas: { hashKey: "endpoint", rangeKey: "agent_id" },
  apiKeys: { hashKey: "key_hash" },
  /**
   * The public API's own state, keyed by `pk`, every item with `expires_at` (epoch s):
   *   `rl#key#<key hash>#<minute>`    ask count of one key in one fixed one-minute window
   *   `rl#agent#<agent id>#<minute>`  ask count of one replica in one window
   *   `idem#<owner>#<sha256(key)>`    an Idempotency-Key: fingerprint, state, stored response (24 h)
   *   `cb#<callback id>`              an async ask's webhook delivery: owner, URL, attempts, status
   */
  apiState: { hashKey: "pk", ttlAttribute: "expires_at" },
};

function createInput(name: string, def: TableDefinition): CreateTableCommandInput {
  const keys = [def.hashKey, ...(def.rangeKey ? [def.rangeKey] : [])];
  return {
    TableName: name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: keys.map((k) => ({ AttributeName: k, AttributeType: "S" })),
    KeySchema: [
      { AttributeName: def.hashKey, KeyType: "HASH" },
      ...(def.rangeKey ? [{ AttributeName: def.rangeKey, KeyType: "RANGE" as const }] : []),
    ],
  };
}

/** Creates the tables that do not exist yet and waits until all are ACTIVE. Safe to run again. */
export async function ensureTables(clients: AwsClients, names: TableNames): Promise<void> {
  const all = (Object.keys(TABLE_KEYS) as (keyof TableNames)[]).map((key): [string, TableDefinition] => [names[key], TABLE_KEYS[key]]);
  await Promise.all(
    all.map(async ([name, def]) => {
      try {
        await clients.dynamodb.send(new CreateTableCommand(createInput(name, def)));
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err;
      }
      await waitActive(clients, name);
    }),
  );
}

async function waitActive(clients: AwsClients, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const out = await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
      if (out.Table?.TableStatus === "ACTIVE") return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`table ${name} did not become ACTIVE`);
}
