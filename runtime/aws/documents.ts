/**
 * DynamoDB with plain JavaScript values, the subset of `@aws-sdk/lib-dynamodb`'s document API the
 * stores use, sent through the low-level client with `cacheMiddleware` on.
 *
 * Why not DynamoDBDocumentClient: it resolves a fresh middleware stack for every call (and refuses
 * `cacheMiddleware`), which measured ~0.25 ms of CPU per call on this machine — on a router that
 * makes several calls per ask, more than all of its own logic. Marshalling is the same library's
 * (`@aws-sdk/util-dynamodb`), so items look exactly as they did.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall, type marshallOptions } from "@aws-sdk/util-dynamodb";
import type {
  BatchWriteCommandInput,
  DeleteCommandInput,
  GetCommandInput,
  PutCommandInput,
  QueryCommandInput,
  ScanCommandInput,
  UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";

export type Item = Record<string, any>;
type Marshalled = Record<string, AttributeValue>;
type WriteRequests = NonNullable<BatchWriteCommandInput["RequestItems"]>;

const OPTIONS: marshallOptions = { removeUndefinedValues: true };

const toAttributes = (value: Item): Marshalled => marshall(value, OPTIONS) as Marshalled;
const maybe = <T, R>(value: T | undefined, f: (v: T) => R): R | undefined => (value === undefined ? undefined : f(value));

export class Documents {
  constructor(private readonly client: DynamoDBClient) {}

  async get(input: GetCommandInput): Promise<{ Item?: Item }> {
    const out = await this.client.send(new GetItemCommand({ ...input, Key: toAttributes(input.Key!) }));
    return { Item: maybe(out.Item, unmarshall) };
  }

  async put(input: PutCommandInput): Promise<{ Attributes?: Item }> {
    const out = await this.client.send(
      new PutItemCommand({ ...input, Item: toAttributes(input.Item!), ExpressionAttributeValues: maybe(input.ExpressionAttributeValues, toAttributes) }),
    );
    return { Attributes: maybe(out.Attributes, unmarshall) };
  }

  async update(input: UpdateCommandInput): Promise<{ Attributes?: Item }> {
    const out = await this.client.send(
      new UpdateItemCommand({
        ...(input as object),
        TableName: input.TableName,
        Key: toAttributes(input.Key!),
        ExpressionAttributeValues: maybe(input.ExpressionAttributeValues, toAttributes),
      }),
    );
    return { Attributes: maybe(out.Attributes, unmarshall) };
  }

  async delete(input: DeleteCommandInput): Promise<{ Attributes?: Item }> {
    const out = await this.client.send(
      new DeleteItemCommand({ ...input, Key: toAttributes(input.Key!), ExpressionAttributeValues: maybe(input.ExpressionAttributeValues, toAttributes) }),
    );
    return { Attributes: maybe(out.Attributes, unmarshall) };
  }

  async query(input: QueryCommandInput): Promise<Page> {
    return pageOf(await this.client.send(new QueryCommand(pageInput(input))));
  }

  async scan(input: ScanCommandInput): Promise<Page> {
    return pageOf(await this.client.send(new ScanCommand(pageInput(input))));
  }

  /** One BatchWriteItem; what DynamoDB left unprocessed comes back in document form to retry. */
  async batchWrite(input: BatchWriteCommandInput): Promise<{ UnprocessedItems?: WriteRequests }> {
    const requests = mapRequests(input.RequestItems ?? {}, (r) => ({
      ...(r.PutRequest ? { PutRequest: { Item: toAttributes(r.PutRequest.Item!) } } : {}),
      ...(r.DeleteRequest ? { DeleteRequest: { Key: toAttributes(r.DeleteRequest.Key!) } } : {}),
    }));
    const out = await this.client.send(new BatchWriteItemCommand({ ...input, RequestItems: requests }));
    const unprocessed = mapRequests(out.UnprocessedItems ?? {}, (r: WriteRequest) => ({
      ...(r.PutRequest ? { PutRequest: { Item: unmarshall(r.PutRequest.Item!) } } : {}),
      ...(r.DeleteRequest ? { DeleteRequest: { Key: unmarshall(r.DeleteRequest.Key!) } } : {}),
    }));
    return { UnprocessedItems: Object.keys(unprocessed).length ? unprocessed : undefined };
  }
}

interface Page {
  Items: Item[];
  LastEvaluatedKey?: Item;
}

/** A Query's or Scan's input with its values and start key marshalled (the rest passes through). */
function pageInput<T extends { TableName?: string; ExpressionAttributeValues?: Item; ExclusiveStartKey?: Item }>(input: T): any {
  return {
    ...(input as object),
    TableName: input.TableName,
    ExpressionAttributeValues: maybe(input.ExpressionAttributeValues, toAttributes),
    ExclusiveStartKey: maybe(input.ExclusiveStartKey, toAttributes),
  };
}

function pageOf(out: { Items?: Marshalled[]; LastEvaluatedKey?: Marshalled }): Page {
  return { Items: (out.Items ?? []).map((i) => unmarshall(i)), LastEvaluatedKey: maybe(out.LastEvaluatedKey, unmarshall) };
}

function mapRequests<A, B>(byTable: Record<string, A[]>, f: (request: A) => B): Record<string, B[]> {
  return Object.fromEntries(Object.entries(byTable).map(([table, requests]) => [table, requests.map(f)]));
}
