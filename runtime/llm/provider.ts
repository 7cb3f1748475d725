/** The port through which the agent worker asks a language model for the next turn. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface CompletionRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  /** The replica asking; the simulator names it in its reply. */
  agentId: string;
}

export interface LlmProvider {
  readonly name: string;
  readonly kind: "openai" | "simulator";
  complete(request: CompletionRequest, signal?: AbortSignal): Promise<string>;
}

/** A provider failed after its own retries; the ask is answered with 502 UPSTREAM_ERROR. */
export class ProviderError extends Error {
  constructor(
    readonly provider: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}
