import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { providerSchema, type ProviderSpec } from "../../runtime/core/spec";
import { providerSecretPrefix } from "../lib/names";
import { withDefaults } from "../lib/defaults";

export interface LlmProviderArgs {
  /**
   * The provider as a stack declares it (same schema as `agentpool:providers`). Plain, not an
   * Input: its kind decides which resources exist.
   */
  readonly provider: ProviderSpec;
  /**
   * The provider's API key. Stored only in AWS Secrets Manager; workers receive it through their
   * task definition's `secrets`, as the environment variable named by `apiKeyEnv`. Wrapped as a
   * Pulumi secret here, so it is encrypted in the state even if passed in plain.
   * Required before a Deployment can use an `openai` provider; unused by `simulator`.
   */
  readonly apiKey?: pulumi.Input<string>;
  /** Names the secret (`agentpool/<poolName>/<provider>-…`); defaults to the stack name. */
  readonly poolName?: string;
  /** Days Secrets Manager keeps a deleted key recoverable (0 deletes at once). Default 7. */
  readonly recoveryWindowInDays?: pulumi.Input<number>;
}

/** An LLM provider of the pool and, for keyed providers, its API key in Secrets Manager. */
export class LlmProvider extends pulumi.ComponentResource {
  readonly spec: ProviderSpec;
  /** The environment variable the worker reads the key from (openai: `apiKeyEnv`). */
  readonly apiKeyEnv?: string;
  readonly secret?: aws.secretsmanager.Secret;
  readonly secretVersion?: aws.secretsmanager.SecretVersion;
  /** ARN of the key's secret; undefined for providers without a key. */
  readonly secretArn?: pulumi.Output<string>;

  constructor(name: string, args: LlmProviderArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("agentpool:index:LlmProvider", name, {}, opts);
    const parsed = providerSchema.safeParse(args.provider);
    if (!parsed.success) throw new Error(`LlmProvider ${name}: invalid provider: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const { poolName, recoveryWindowInDays } = withDefaults({ poolName: pulumi.getStack(), recoveryWindowInDays: 7 as pulumi.Input<number> }, args);
    this.spec = parsed.data;

    if (this.spec.kind === "openai") {
      this.apiKeyEnv = this.spec.apiKeyEnv;
      if (args.apiKey !== undefined) {
        this.secret = new aws.secretsmanager.Secret(
          `${name}-api-key`,
          {
            namePrefix: providerSecretPrefix(poolName, this.spec.name),
            description: `API key of the ${this.spec.name} LLM provider (agentpool ${poolName})`,
            recoveryWindowInDays,
          },
          { parent: this },
        );
        this.secretVersion = new aws.secretsmanager.SecretVersion(
          `${name}-api-key`,
          { secretId: this.secret.id, secretString: pulumi.secret(args.apiKey) },
          { parent: this },
        );
        // Depend on the version, so a task never starts before the key's value exists.
        this.secretArn = pulumi.all([this.secret.arn, this.secretVersion.id]).apply(([arn]) => arn);
      }
    }

    this.registerOutputs({ name: this.spec.name, kind: this.spec.kind, secretArn: this.secretArn });
  }

  /** The key's secret ARN, or a plain error saying how to provide one. */
  requireSecretArn(user: string): pulumi.Output<string> {
    if (!this.secretArn) {
      throw new Error(
        `${user} uses provider "${this.spec.name}", which has no API key: pass apiKey to its LlmProvider ` +
          `(in a stack: pulumi config set --secret --path 'agentpoolAws:providerKeys.${this.spec.name}' <key>)`,
      );
    }
    return this.secretArn;
  }
}
