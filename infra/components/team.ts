import * as pulumi from "@pulumi/pulumi";
import { teamSchema } from "../../runtime/core/spec";
import type { AgentPlatform } from "./platform";
import { Deployment, type DeploymentArgs } from "./deployment";

/** A deployment declared inside a team: the team supplies its platform and slug. */
export type TeamDeploymentArgs = Omit<DeploymentArgs, "platform" | "team">;

export interface TeamArgs {
  /** Display name, e.g. "Support Team". */
  readonly name: string;
  /** `support-team`: first part of the names of its replicas. */
  readonly slug: string;
  /** Where the team's deployments run; required when `deployments` is given. */
  readonly platform?: AgentPlatform;
  /** Deployments to create as children of the team, one per agent type. */
  readonly deployments?: TeamDeploymentArgs[];
}

/** A team and its deployments (each a child Deployment named `<team>-<agentType>`). */
export class Team extends pulumi.ComponentResource {
  readonly slug: string;
  readonly displayName: string;
  readonly deployments: Deployment[];

  constructor(name: string, args: TeamArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("agentpool:index:Team", name, {}, opts);
    const parsed = teamSchema.safeParse({ name: args.name, slug: args.slug });
    if (!parsed.success) throw new Error(`Team ${name}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const deployments = args.deployments ?? [];
    if (deployments.length > 0 && !args.platform) throw new Error(`Team ${name}: pass platform to create its deployments`);
    const seen = new Set<string>();
    for (const d of deployments) {
      if (seen.has(d.agentType.spec.slug)) throw new Error(`Team ${name}: deploys "${d.agentType.spec.slug}" twice; one deployment per agent type`);
      seen.add(d.agentType.spec.slug);
    }
    this.slug = parsed.data.slug;
    this.displayName = parsed.data.name;
    this.deployments = deployments.map(
      ({ agentType, ...rest }) =>
        new Deployment(`${name}-${agentType.spec.slug}`, { ...rest, platform: args.platform!, team: this.slug, agentType }, { parent: this }),
    );
    this.registerOutputs({ slug: this.slug, deployments: this.deployments.map((d) => d.key) });
  }
}
