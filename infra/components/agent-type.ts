import * as pulumi from "@pulumi/pulumi";
import { agentTypeSchema, type AgentTypeSpec } from "../../runtime/core/spec";
import type { LlmProvider } from "./llm-provider";

export interface AgentTypeArgs {
  /**
   * The agent type as a stack declares it (`agentpool:agentTypes` schema): slug, endpointSlug
   * (`POST /api/v1/ask/{endpointSlug}`), system prompt, provider name, model and sampling.
   */
  readonly agentType: AgentTypeSpec;
  /** The provider it answers with; its name must equal `agentType.provider`. */
  readonly provider: LlmProvider;
}

/**
 * A kind of agent: what it is told, which model answers, and the endpoint that reaches it. It owns
 * no AWS resources itself; each Deployment of it runs workers configured from it.
 */
export class AgentType extends pulumi.ComponentResource {
  readonly spec: AgentTypeSpec;
  readonly provider: LlmProvider;
  /** `/api/v1/ask/{endpointSlug}`, relative to the API's base URL. */
  readonly askPath: string;

  constructor(name: string, args: AgentTypeArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("agentpool:index:AgentType", name, {}, opts);
    const parsed = agentTypeSchema.safeParse(args.agentType);
    if (!parsed.success) throw new Error(`AgentType ${name}: invalid agent type: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    if (parsed.data.provider !== args.provider.spec.name) {
      throw new Error(`AgentType ${name}: agentType.provider is "${parsed.data.provider}" but the LlmProvider given is "${args.provider.spec.name}"`);
    }
    this.spec = parsed.data;
    this.provider = args.provider;
    this.askPath = `/api/v1/ask/${this.spec.endpointSlug}`;
    this.registerOutputs({ slug: this.spec.slug, endpointSlug: this.spec.endpointSlug, model: this.spec.model, askPath: this.askPath });
  }
}
