/** Which provider an agent type gets, from the stack's declaration and the environment. */
import { createProvider, effectiveProvider } from "../../runtime/llm";
import { OpenAiProvider } from "../../runtime/llm/openai";
import { SimulatorProvider } from "../../runtime/llm/simulator";
import type { ProviderSpec } from "../../runtime/core/spec";
import { exampleSpec } from "../support/pool-spec";
import { startOpenAiCompatibleServer } from "../support/openai-server";

const openaiSpec = (overrides: Partial<Extract<ProviderSpec, { kind: "openai" }>> = {}): ProviderSpec => ({
  name: "openai",
  kind: "openai",
  apiKeyEnv: "OPENAI_API_KEY",
  timeoutMs: 2_000,
  maxRetries: 0,
  ...overrides,
});

describe("createProvider", () => {
  test("builds the offline simulator for a simulator provider, whatever the environment", () => {
    const provider = createProvider({ name: "sim", kind: "simulator", latencyMs: 0 }, {});

    expect(provider).toBeInstanceOf(SimulatorProvider);
    expect(provider).toMatchObject({ name: "sim", kind: "simulator" });
  });

  test("builds an OpenAI provider that calls the declared base URL with the key from the declared variable", async () => {
    const server = await startOpenAiCompatibleServer({ apiKey: "sk-from-env-1234567890", reply: "hello from upstream" });
    try {
      const provider = createProvider(openaiSpec({ baseUrl: server.url, apiKeyEnv: "MY_LLM_KEY" }), { MY_LLM_KEY: "sk-from-env-1234567890" });

      const content = await provider.complete({ model: "gpt-4o", agentId: "a-1", messages: [{ role: "user", content: "hi" }] });

      expect(provider).toBeInstanceOf(OpenAiProvider);
      expect(content).toBe("hello from upstream");
      expect(server.completions()[0]!.bearer).toBe("sk-from-env-1234567890");
    } finally {
      await server.close();
    }
  });

  test("refuses an OpenAI provider whose key variable is unset, naming the provider and the variable", () => {
    const build = () => createProvider(openaiSpec({ name: "openai", apiKeyEnv: "OPENAI_API_KEY" }), {});

    expect(build).toThrow('provider "openai" needs its API key in $OPENAI_API_KEY');
  });

  test("treats an empty key variable as unset", () => {
    const build = () => createProvider(openaiSpec(), { OPENAI_API_KEY: "" });

    expect(build).toThrow("$OPENAI_API_KEY");
  });
});

describe("effectiveProvider", () => {
  test("falls back to the stack's simulator when the declared provider has no key", () => {
    const spec = exampleSpec();

    const chosen = effectiveProvider(spec, "openai", {});

    expect(chosen.fellBack).toBe(true);
    expect(chosen.provider).toMatchObject({ name: "sim", kind: "simulator" });
  });

  test("uses the declared provider when its key is set", () => {
    const spec = exampleSpec();

    const chosen = effectiveProvider(spec, "openai", { OPENAI_API_KEY: "sk-real" });

    expect(chosen.fellBack).toBe(false);
    expect(chosen.provider).toMatchObject({ name: "openai", kind: "openai" });
  });

  test("uses a declared simulator as is, with no fallback involved", () => {
    const spec = exampleSpec();

    const chosen = effectiveProvider(spec, "sim", {});

    expect(chosen).toEqual({ provider: expect.objectContaining({ name: "sim" }), fellBack: false });
  });

  test("looks for the key in the variable the provider declares, not in OPENAI_API_KEY", () => {
    const spec = exampleSpec((raw) => {
      raw.providers[1].apiKeyEnv = "TEAM_OPENAI_KEY";
    });

    expect(effectiveProvider(spec, "openai", { OPENAI_API_KEY: "sk-wrong-var" }).fellBack).toBe(true);
    expect(effectiveProvider(spec, "openai", { TEAM_OPENAI_KEY: "sk-right-var" }).fellBack).toBe(false);
  });

  test("an unknown provider name is an error that names it", () => {
    const spec = exampleSpec();

    expect(() => effectiveProvider(spec, "anthropic", {})).toThrow('unknown provider "anthropic"');
  });

  test("without a fallback and without a key, the pool refuses to start and says which variable to set", () => {
    const spec = exampleSpec((raw) => {
      delete raw.local;
    });

    expect(() => effectiveProvider(spec, "openai", {})).toThrow('provider "openai" needs its API key in $OPENAI_API_KEY');
  });
});
