/** The pool declaration of a stack: the dev stack is the product spec's example, and bad input names its path. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { declarationFromConfig, formatPath, parsePoolSpec, SpecError, type PoolSpec } from "../../runtime/core/spec";
import { exampleDeclaration, problemsOf } from "../support/pool-spec";

const DEV_STACK = join(__dirname, "..", "..", "stacks", "Pulumi.dev.yaml");


function withChange(change: (raw: any) => void): unknown {
  const raw = exampleDeclaration();
  change(raw);
  return raw;
}

describe("the dev stack (stacks/Pulumi.dev.yaml)", () => {
  let spec: PoolSpec;

  beforeAll(() => {
    const config = parse(readFileSync(DEV_STACK, "utf8")).config;
    spec = parsePoolSpec(declarationFromConfig(config), DEV_STACK);
  });

  test("declares the simulator `sim` and the OpenAI provider `openai` keyed by OPENAI_API_KEY", () => {
    expect(spec.providers.map((p) => [p.name, p.kind])).toEqual([
      ["sim", "simulator"],
      ["openai", "openai"],
    ]);
    expect(spec.providers[1]).toMatchObject({ apiKeyEnv: "OPENAI_API_KEY" });
  });

  test("declares Customer Support on endpoint `support` with gpt-4o through `openai`", () => {
    expect(spec.agentTypes).toHaveLength(1);
    expect(spec.agentTypes[0]).toMatchObject({
      name: "Customer Support",
      slug: "customer-support",
      endpointSlug: "support",
      provider: "openai",
      model: "gpt-4o",
    });
  });

  test("has a real support system prompt, not a placeholder", () => {
    expect(spec.agentTypes[0]!.systemPrompt.length).toBeGreaterThan(100);
    expect(spec.agentTypes[0]!.systemPrompt).toMatch(/customer support/i);
  });

  test("deploys three customer-support replicas in Support Team with the default thresholds 3 and 10", () => {
    expect(spec.teams).toEqual([
      {
        name: "Support Team",
        slug: "support-team",
        deployments: [{ agentType: "customer-support", desiredReplicas: 3, maxConcurrency: 1, availableDepth: 3, overflowDepth: 10, drainTimeoutSeconds: 120 }],
      },
    ]);
  });

  test("falls back to `sim` locally when OPENAI_API_KEY is not set", () => {
    expect(spec.local.fallbackProvider).toBe("sim");
  });
});

describe("parsePoolSpec", () => {
  test("fills the documented defaults", () => {
    const spec = parsePoolSpec({
      providers: [{ name: "openai", kind: "openai" }, { name: "sim", kind: "simulator" }],
      agentTypes: [{ name: "A", slug: "a", endpointSlug: "a", systemPrompt: "p", provider: "sim", model: "m" }],
    });

    expect(spec.providers[0]).toEqual({ name: "openai", kind: "openai", apiKeyEnv: "OPENAI_API_KEY", timeoutMs: 12_000, maxRetries: 1 });
    expect(spec.providers[1]).toEqual({ name: "sim", kind: "simulator", latencyMs: 300 });
    expect(spec.teams).toEqual([]);
    expect(spec.router).toEqual({ deadlineMs: 25_000 });
    expect(spec.local).toEqual({});
  });

  test("names the deployment whose agent type does not exist", () => {
    const problems = problemsOf(withChange((raw) => (raw.teams[0].deployments[0].agentType = "x")));

    expect(problems).toEqual(['teams[0].deployments[0].agentType: unknown agent type "x"']);
  });

  test("names the agent type whose provider does not exist", () => {
    const problems = problemsOf(withChange((raw) => (raw.agentTypes[0].provider = "anthropic")));

    expect(problems).toEqual(['agentTypes[0].provider: unknown provider "anthropic"']);
  });

  test("names an unknown local fallback provider", () => {
    const problems = problemsOf(withChange((raw) => (raw.local.fallbackProvider = "nope")));

    expect(problems).toEqual(['local.fallbackProvider: unknown provider "nope"']);
  });

  test("rejects duplicate provider names", () => {
    const problems = problemsOf(withChange((raw) => raw.providers.push({ name: "sim", kind: "simulator" })));

    expect(problems).toEqual(['providers[2].name: duplicate provider "sim"']);
  });

  test("rejects duplicate agent type slugs", () => {
    const problems = problemsOf(withChange((raw) => raw.agentTypes.push({ ...raw.agentTypes[0], name: "Other" })));

    expect(problems).toEqual(['agentTypes[1].slug: duplicate agent type "customer-support"']);
  });

  test("rejects duplicate team slugs", () => {
    const problems = problemsOf(withChange((raw) => raw.teams.push({ name: "Again", slug: "support-team" })));

    expect(problems).toEqual(['teams[1].slug: duplicate team "support-team"']);
  });

  test("rejects a team that deploys the same agent type twice", () => {
    const problems = problemsOf(withChange((raw) => raw.teams[0].deployments.push({ agentType: "customer-support", desiredReplicas: 1 })));

    expect(problems).toEqual(['teams[0].deployments[1].agentType: team "support-team" already deploys "customer-support"']);
  });

  test.each(["Customer-Support", "customer_support", "customer--support", "-support", "1support", "support-", "", "a".repeat(41)])(
    "rejects the slug %j, saying what a slug may contain",
    (bad) => {
      const problems = problemsOf(withChange((raw) => (raw.agentTypes[0].endpointSlug = bad)));

      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^agentTypes\[0\]\.endpointSlug: /);
    },
  );

  test("explains the slug rule with an example", () => {
    const problems = problemsOf(withChange((raw) => (raw.teams[0].slug = "Support Team")));

    expect(problems).toEqual(["teams[0].slug: must be lowercase letters, digits and single dashes (e.g. customer-support)"]);
  });

  test("rejects an available threshold above the overflow threshold", () => {
    const problems = problemsOf(
      withChange((raw) => Object.assign(raw.teams[0].deployments[0], { availableDepth: 5, overflowDepth: 4 })),
    );

    expect(problems).toEqual(["teams[0].deployments[0].availableDepth: must not exceed overflowDepth"]);
  });

  test("accepts an available threshold equal to the overflow threshold", () => {
    const raw = withChange((r) => Object.assign(r.teams[0].deployments[0], { availableDepth: 1, overflowDepth: 1 }));

    expect(() => parsePoolSpec(raw)).not.toThrow();
  });

  test("requires providers and agent types, naming both", () => {
    const problems = problemsOf({});

    expect(problems).toEqual([
      expect.stringMatching(/^providers: .*expected array/),
      expect.stringMatching(/^agentTypes: .*expected array/),
    ]);
  });

  test("requires at least one provider", () => {
    const problems = problemsOf(withChange((raw) => (raw.providers = [])));

    expect(problems).toContainEqual(expect.stringMatching(/^providers: .*>=1 items/));
  });

  test("reports a value of the wrong type with its path and the expected type", () => {
    const problems = problemsOf(withChange((raw) => (raw.teams[0].deployments[0].desiredReplicas = "3")));

    expect(problems).toEqual(["teams[0].deployments[0].desiredReplicas: Invalid input: expected number, received string"]);
  });

  test("reports a misspelt field instead of ignoring it", () => {
    const problems = problemsOf(withChange((raw) => (raw.teams[0].deployments[0].replicas = 3)));

    expect(problems).toEqual([expect.stringMatching(/^teams\[0\]\.deployments\[0\]: .*"replicas"/)]);
  });

  test("reports an unknown provider kind at the provider", () => {
    const problems = problemsOf(withChange((raw) => (raw.providers[0].kind = "anthropic")));

    expect(problems).toEqual([expect.stringMatching(/^providers\[0\]\.kind: /)]);
  });

  test("bounds the OpenAI timeout at 20 s", () => {
    const problems = problemsOf(withChange((raw) => (raw.providers[1].timeoutMs = 60_000)));

    expect(problems).toEqual([expect.stringMatching(/^providers\[1\]\.timeoutMs: /)]);
  });

  test("keeps the router deadline below API Gateway's 30 s limit", () => {
    const problems = problemsOf(withChange((raw) => (raw.router = { deadlineMs: 30_000 })));

    expect(problems).toEqual([expect.stringMatching(/^router\.deadlineMs: /)]);
  });

  test("reports a declaration that is not an object at the root", () => {
    expect(problemsOf(null)).toEqual([expect.stringMatching(/^\(root\): /)]);
  });

  test("puts the source and every problem in the error message", () => {
    const raw = withChange((r) => {
      r.agentTypes[0].model = "";
      r.teams[0].deployments[0].desiredReplicas = -1;
    });

    const error = (() => {
      try {
        parsePoolSpec(raw, "stacks/Pulumi.bad.yaml");
      } catch (e) {
        return e as SpecError;
      }
      throw new Error("expected a SpecError");
    })();

    expect(error.name).toBe("SpecError");
    expect(error.source).toBe("stacks/Pulumi.bad.yaml");
    expect(error.message).toMatch(/^stacks\/Pulumi\.bad\.yaml is not a valid agentpool stack:\n/);
    expect(error.message).toContain("  - agentTypes[0].model: ");
    expect(error.message).toContain("  - teams[0].deployments[0].desiredReplicas: ");
  });

  // The default OpenAI budget of one ask is (1 + maxRetries) × timeoutMs plus the client's backoff
  // (timeouts are retried like 5xx, see llm-openai.test.ts): 2 × 20 s + ~0.5 s = 40.5 s with the
  // defaults, while the router gives up at its default 25 s deadline. A hanging upstream therefore
  // holds a replica (maxConcurrency 1) ~15 s after its caller got 504 TIMEOUT.
  // BUG (runtime/core/spec.ts defaults / runtime/llm/openai.ts): either lower the defaults so the
  // whole budget fits the deadline (e.g. timeoutMs 12 s, maxRetries 1), or have the worker pass
  // an AbortSignal that fires at the ask's `deadline_at`. Remove `.failing` once fixed.
  test("the default OpenAI timeout and retries fit within the default router deadline", () => {
    const spec = parsePoolSpec(exampleDeclaration());
    const openai = spec.providers.find((p) => p.kind === "openai");
    if (openai?.kind !== "openai") throw new Error("the example declares an openai provider");

    const worstCaseMs = (1 + openai.maxRetries) * openai.timeoutMs;

    expect(worstCaseMs).toBeLessThan(spec.router.deadlineMs);
  });
});

describe("formatPath", () => {
  test("writes array indices in brackets and keys with dots", () => {
    expect(formatPath(["teams", 0, "deployments", 1, "agentType"])).toBe("teams[0].deployments[1].agentType");
  });

  test("writes an empty path as an empty string", () => {
    expect(formatPath([])).toBe("");
  });

  test("starts with an index when the path starts with one", () => {
    expect(formatPath([2, "name"])).toBe("[2].name");
  });
});

describe("declarationFromConfig", () => {
  test("takes the keys of the agentpool namespace and ignores the others", () => {
    const config = { "aws:region": "eu-west-1", "agentpool:providers": [1], "agentpool:teams": [2], "other:teams": [3] };

    expect(declarationFromConfig(config)).toEqual({ providers: [1], teams: [2] });
  });

  test("reads another namespace when asked", () => {
    expect(declarationFromConfig({ "mypool:providers": [1], "agentpool:providers": [2] }, "mypool")).toEqual({ providers: [1] });
  });

  test("ignores keys without a namespace", () => {
    expect(declarationFromConfig({ providers: [1], "agentpool:": [2] })).toEqual({});
  });
});
