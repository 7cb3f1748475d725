/**
 * `agentpool keys create --name NAME | list | revoke PREFIX`.
 *
 * Against a running local pool (the default) it uses the router's key-management routes
 * (`/api/v1/admin/keys`) with the pool's admin key from `<data-dir>/<stack>/admin.json` (mode
 * 0600, written by `agentpool start`). With `--aws` it writes the stack's API-key table directly
 * with the default AWS credentials (who may do that is then IAM's business).
 * The key and its webhook secret are printed once; nothing else ever shows them.
 */
import { Command } from "commander";
import { adminFilePath, readAdminFile } from "../local/admin-file";
import { tableNames } from "../core/naming";
import { createAwsClients, destroyAwsClients } from "../aws/clients";
import { ApiKeyStore } from "../aws/api-key-store";
import { AmbiguousPrefixError, createApiKey, listApiKeys, revokeApiKey, type ApiKeyListing } from "../aws/api-keys";

export interface KeysTransport {
  create(input: { name: string; owner?: string; rate_limit_per_minute?: number; webhook_url?: string }): Promise<{ api_key: string; webhook_secret: string; key: ApiKeyListing }>;
  list(): Promise<ApiKeyListing[]>;
  revoke(prefix: string): Promise<ApiKeyListing>;
  close(): void;
}

/** Through a router's admin routes (the local pool's gateway). */
export function httpTransport(url: string, adminKey: string): KeysTransport {
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { "x-admin-key": adminKey, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, any>;
    if (!res.ok) throw new Error(json.error ?? `${res.status} ${res.statusText}`);
    return json;
  };
  return {
    create: async (input) => (await request("POST", "/api/v1/admin/keys", input)) as any,
    list: async () => (await request("GET", "/api/v1/admin/keys")).keys,
    revoke: async (prefix) => (await request("DELETE", `/api/v1/admin/keys/${encodeURIComponent(prefix)}`)).key,
    close: () => undefined,
  };
}

/** Straight to the stack's DynamoDB table (AWS, default credentials). */
export function dynamoTransport(stack: string, region?: string): KeysTransport {
  const clients = createAwsClients({ region });
  const store = new ApiKeyStore(clients, tableNames(stack).apiKeys);
  return {
    create: async (input) => {
      const created = await createApiKey(store, { name: input.name, owner: input.owner, rateLimitPerMinute: input.rate_limit_per_minute, webhookUrl: input.webhook_url }, Date.now());
      return { api_key: created.apiKey, webhook_secret: created.webhookSecret, key: created.key };
    },
    list: () => listApiKeys(store),
    revoke: async (prefix) => {
      try {
        const revoked = await revokeApiKey(store, prefix, Date.now());
        if (!revoked) throw new Error(`no API key with prefix "${prefix}"`);
        return revoked;
      } catch (err) {
        if (err instanceof AmbiguousPrefixError) throw new Error(err.message);
        throw err;
      }
    },
    close: () => destroyAwsClients(clients),
  };
}

/** The table `keys list` prints. */
export function formatKeyTable(keys: ApiKeyListing[]): string {
  const rows = [
    ["PREFIX", "NAME", "OWNER", "CREATED", "LAST USED", "LIMIT/MIN", "STATUS"],
    ...keys.map((k) => [
      k.prefix,
      k.name,
      k.owner,
      k.created_at.slice(0, 19).replace("T", " "),
      k.last_used_at ? k.last_used_at.slice(0, 19).replace("T", " ") : "never",
      k.rate_limit_per_minute === null ? "default" : String(k.rate_limit_per_minute),
      k.revoked_at ? "revoked" : "active",
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

interface CommonOptions {
  stack: string;
  dataDir: string;
  aws?: boolean;
  region?: string;
  json?: boolean;
}

function transportFor(opts: CommonOptions): KeysTransport {
  if (opts.aws) return dynamoTransport(opts.stack, opts.region);
  const admin = readAdminFile(adminFilePath(opts.dataDir, opts.stack));
  return httpTransport(admin.url, admin.adminKey);
}

async function withTransport<T>(opts: CommonOptions, run: (t: KeysTransport) => Promise<T>): Promise<T> {
  const t = transportFor(opts);
  try {
    return await run(t);
  } finally {
    t.close();
  }
}

const out = (s: string): void => {
  process.stdout.write(s);
};

/** The `keys` command with its three subcommands; `program.addCommand(keysCommand())`. */
export function keysCommand(): Command {
  const keys = new Command("keys").description("create, list and revoke API keys of a pool");
  const common = (c: Command) =>
    c
      .option("-s, --stack <name>", "stack of the pool", "dev")
      .option("--data-dir <dir>", "data dir of the running local pool", ".agentpool")
      .option("--aws", "write the stack's DynamoDB table directly (default AWS credentials) instead of a local pool")
      .option("--region <region>", "AWS region, with --aws")
      .option("--json", "print JSON");

  common(keys.command("create").description("create a key; it is printed once"))
    .requiredOption("-n, --name <name>", "what the key is for, e.g. 'acme production'")
    .option("--owner <owner>", "share threads with other keys of this owner (default: a new owner)")
    .option("--rate-limit <n>", "asks per minute for this key (default 60)")
    .option("--webhook-url <url>", "default webhook for this key's asks (makes them async)")
    .action(async (opts: CommonOptions & { name: string; owner?: string; rateLimit?: string; webhookUrl?: string }) => {
      const rate = opts.rateLimit === undefined ? undefined : Number(opts.rateLimit);
      if (rate !== undefined && (!Number.isInteger(rate) || rate < 1)) throw new Error("--rate-limit must be a positive whole number");
      const created = await withTransport(opts, (t) => t.create({ name: opts.name, owner: opts.owner, rate_limit_per_minute: rate, webhook_url: opts.webhookUrl }));
      if (opts.json) {
        out(JSON.stringify(created) + "\n");
        return;
      }
      out(
        `API key (shown once, store it now):        ${created.api_key}\n` +
          `Webhook secret (shown once, signs webhooks): ${created.webhook_secret}\n` +
          `prefix ${created.key.prefix} · name "${created.key.name}" · owner ${created.key.owner}\n`,
      );
    });

  common(keys.command("list").description("list keys: prefix, name, owner, created, last used, limit, status")).action(async (opts: CommonOptions) => {
    const list = await withTransport(opts, (t) => t.list());
    out(opts.json ? JSON.stringify(list) + "\n" : formatKeyTable(list));
  });

  common(keys.command("revoke").description("revoke the key with this prefix (refused within a second)"))
    .argument("<prefix>", "the key's prefix as listed (cust_ and at least 4 characters)")
    .action(async (prefix: string, opts: CommonOptions) => {
      const revoked = await withTransport(opts, (t) => t.revoke(prefix));
      out(opts.json ? JSON.stringify(revoked) + "\n" : `revoked ${revoked.prefix} ("${revoked.name}")\n`);
    });
  return keys;
}

/** For `runtime/cli/main.ts`: `register(program)`. */
export function register(program: Command): void {
  program.addCommand(keysCommand());
}
