/**
 * Raw pool declarations for tests, in the shape a stack file holds under `agentpool:` (before
 * validation), so each test changes only what it is about.
 */
import { parsePoolSpec, SpecError, type PoolSpec } from "../../runtime/core/spec";

/** The problems of a declaration that must fail validation (fails the test if it is accepted). */
export function problemsOf(raw: unknown): string[] {
  try {
    parsePoolSpec(raw, "test declaration");
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as SpecError).problems;
  }
  throw new Error("expected the declaration to be rejected, but it was accepted");
}

/** The product spec's example: providers sim + openai, customer-support on `support`, 3 replicas. */
export function exampleDeclaration(): any {
  return {
    providers: [
      { name: "sim", kind: "simulator", latencyMs: 0 },
      { name: "openai", kind: "openai", apiKeyEnv: "OPENAI_API_KEY" },
    ],
    agentTypes: [
      {
        name: "Customer Support",
        slug: "customer-support",
        endpointSlug: "support",
        provider: "openai",
        model: "gpt-4o",
        systemPrompt: "You are a customer support agent for {{COMPANY_NAME}}.",
      },
    ],
    teams: [{ name: "Support Team", slug: "support-team", deployments: [{ agentType: "customer-support", desiredReplicas: 3 }] }],
    local: { fallbackProvider: "sim" },
  };
}

/** The example, validated, after `change` edited the raw declaration. */
export function exampleSpec(change: (raw: any) => void = () => undefined): PoolSpec {
  const raw = exampleDeclaration();
  change(raw);
  return parsePoolSpec(raw, "test declaration");
}
