/** Builds the provider an agent type uses, from the stack's declaration and the environment. */
import type { PoolSpec, ProviderSpec } from "../core/spec";
import type { LlmProvider } from "./provider";
import { SimulatorProvider } from "./simulator";

export type { LlmProvider, ChatMessage, CompletionRequest } from "./provider";
export { ProviderError } from "./provider";

export function createProvider(spec: ProviderSpec, env: NodeJS.ProcessEnv): LlmProvider {
  if (spec.kind === "simulator") return new SimulatorProvider({ name: spec.name, latencyMs: spec.latencyMs });
  const apiKey = env[spec.apiKeyEnv];
  if (!apiKey) throw new Error(`provider "${spec.name}" needs its API key in $${spec.apiKeyEnv}`);
  // Loaded only by replicas that use it: a simulator replica never runs the openai client's module
  // code (measured: ~2 MB RSS per idle worker process).
  const { OpenAiProvider } = require("./openai") as typeof import("./openai");
  return new OpenAiProvider({ name: spec.name, apiKey, baseUrl: spec.baseUrl, timeoutMs: spec.timeoutMs, maxRetries: spec.maxRetries });
}

/**
 * The provider an agent type really uses locally: its declared one, or the stack's
 * `local.fallbackProvider` when the declared one has no key in the environment.
 */
export function effectiveProvider(spec: PoolSpec, providerName: string, env: NodeJS.ProcessEnv): { provider: ProviderSpec; fellBack: boolean } {
  const declared = spec.providers.find((p) => p.name === providerName);
  if (!declared) throw new Error(`unknown provider "${providerName}"`);
  const fallback = spec.local.fallbackProvider && spec.providers.find((p) => p.name === spec.local.fallbackProvider);
  if (declared.kind === "openai" && !env[declared.apiKeyEnv]) {
    if (fallback) return { provider: fallback, fellBack: true };
    throw new Error(`provider "${declared.name}" needs its API key in $${declared.apiKeyEnv} (or declare local.fallbackProvider)`);
  }
  return { provider: declared, fellBack: false };
}
