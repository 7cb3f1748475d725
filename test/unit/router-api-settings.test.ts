/** What a stack file and the local pool put into the router's API settings. */
import { routerApiSettings, routerConfigSchema } from "../../runtime/router/config";
import { hashApiKey } from "../../runtime/core/keys";

const spec = {
  teams: [
    { slug: "support-team", deployments: [{ agentType: "customer-support", rateLimitPerMinute: 20 }, { agentType: "triage" }] },
    { slug: "sales", deployments: [{ agentType: "closer", rateLimitPerMinute: 5 }] },
  ],
};
const base = { stack: "dev", tables: { threads: "agentpool-dev-threads", replicas: "r", apiKeys: "k", apiState: "s" }, endpoints: ["support"], deadlineMs: 1_000 };

test("a deployment's rateLimitPerMinute becomes its per-agent limit; others keep the default of 50", () => {
  const config = routerConfigSchema.parse({ ...base, ...routerApiSettings(spec) });

  expect(config.rateLimits).toEqual({ perKeyPerMinute: 60, perAgentPerMinute: 50, perDeployment: { "support-team/customer-support": 20, "sales/closer": 5 } });
  expect(config.webhooks.allowInsecureLocal).toBe(false);
  expect(config.admin.keyHashes).toEqual([]);
});

test("the local pool allows local webhook receivers and lists its admin key's hash, never the key", () => {
  const config = routerConfigSchema.parse({ ...base, ...routerApiSettings(spec, { adminKey: "adm_secret" }) });

  expect(config.webhooks.allowInsecureLocal).toBe(true);
  expect(config.admin.keyHashes).toEqual([hashApiKey("adm_secret")]);
  expect(JSON.stringify(config)).not.toContain("adm_secret");
});
