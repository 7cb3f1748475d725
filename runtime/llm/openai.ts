/** OpenAI and any OpenAI-compatible server, through the official `openai` client. */
import OpenAI from "openai";
import { ProviderError, type CompletionRequest, type LlmProvider } from "./provider";

export interface OpenAiOptions {
  name: string;
  apiKey: string;
  baseUrl?: string;
  /** Per attempt; (1 + maxRetries) × timeout stays under the router's deadline (the client's default is 10 minutes). */
  timeoutMs: number;
  /** The client retries 429 and 5xx twice by default; bounded here so an ask cannot outlive its deadline. */
  maxRetries: number;
}

export class OpenAiProvider implements LlmProvider {
  readonly kind = "openai" as const;
  readonly name: string;
  private readonly client: OpenAI;
  private readonly apiKey: string;

  constructor(options: OpenAiOptions) {
    this.name = options.name;
    this.apiKey = options.apiKey;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
    });
  }

  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<string> {
    try {
      const completion = await this.client.chat.completions.create(
        {
          model: request.model,
          messages: request.messages,
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.maxTokens !== undefined ? { max_completion_tokens: request.maxTokens } : {}),
        },
        { signal },
      );
      const content = completion.choices[0]?.message?.content;
      if (typeof content !== "string") throw new ProviderError(this.name, "the provider returned no message content");
      return content;
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      // Some compatible servers echo the key in their errors; the message reaches clients and logs.
      if (err instanceof OpenAI.APIError) {
        throw new ProviderError(this.name, this.redact(`${this.name} answered ${err.status ?? "no status"}: ${err.message}`), err.status);
      }
      throw new ProviderError(this.name, this.redact(`${this.name} failed: ${(err as Error).message}`));
    }
  }

  private redact(message: string): string {
    return this.apiKey ? message.split(this.apiKey).join("[redacted]") : message;
  }
}
