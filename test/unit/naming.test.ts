/** Names shared by the local pool and AWS: replica slots, queues and tables. */
import { deadLetterQueueName, deploymentKey, queueName, replicaName, resolveDeployments, tableNames } from "../../runtime/core/naming";
import { exampleSpec } from "../support/pool-spec";

describe("resolveDeployments", () => {
  test("expands the example deployment into support-team-customer-support-1..3", () => {
    const spec = exampleSpec();

    const deployments = resolveDeployments(spec, "dev");

    expect(deployments).toHaveLength(1);
    expect(deployments[0]!.key).toBe("support-team/customer-support");
    expect(deployments[0]!.replicas.map((r) => [r.agentId, r.slot])).toEqual([
      ["support-team-customer-support-1", 1],
      ["support-team-customer-support-2", 2],
      ["support-team-customer-support-3", 3],
    ]);
  });

  test("gives each replica its team, deployment and agent type", () => {
    const spec = exampleSpec();

    const replica = resolveDeployments(spec, "dev")[0]!.replicas[0]!;

    expect(replica.team.slug).toBe("support-team");
    expect(replica.agentType.endpointSlug).toBe("support");
    expect(replica.deployment.desiredReplicas).toBe(3);
  });

  test("a deployment of zero replicas has no slots", () => {
    const spec = exampleSpec((raw) => (raw.teams[0].deployments[0].desiredReplicas = 0));

    expect(resolveDeployments(spec, "dev")[0]!.replicas).toEqual([]);
  });

  test("a pool without teams has no deployments", () => {
    const spec = exampleSpec((raw) => delete raw.teams);

    expect(resolveDeployments(spec, "dev")).toEqual([]);
  });

  test("keeps the same agent type apart in two teams", () => {
    const spec = exampleSpec((raw) =>
      raw.teams.push({ name: "Night Shift", slug: "night", deployments: [{ agentType: "customer-support", desiredReplicas: 1 }] }),
    );

    const ids = resolveDeployments(spec, "dev").flatMap((d) => d.replicas.map((r) => r.agentId));

    expect(ids).toEqual([
      "support-team-customer-support-1",
      "support-team-customer-support-2",
      "support-team-customer-support-3",
      "night-customer-support-1",
    ]);
  });

  test("rejects slugs whose queue names would exceed SQS's 80 characters, saying what to shorten", () => {
    const long = "a".repeat(35);
    const spec = exampleSpec((raw) => {
      raw.agentTypes[0].slug = long;
      raw.teams[0].slug = long;
      raw.teams[0].deployments[0].agentType = long;
    });

    expect(() => resolveDeployments(spec, "dev")).toThrow(/longer than SQS allows \(80\); shorten the slugs/);
  });

  test("accepts a queue name of exactly 80 characters and refuses 81", () => {
    // agentpool-dev-{team}-{type}-1-dlq is 21 characters plus the two slugs.
    const withSlugs = (team: number, type: number) =>
      exampleSpec((raw) => {
        raw.agentTypes[0].slug = "c".repeat(type);
        raw.teams[0].slug = "t".repeat(team);
        raw.teams[0].deployments[0] = { agentType: "c".repeat(type), desiredReplicas: 1 };
      });

    const fits = resolveDeployments(withSlugs(30, 29), "dev");

    expect(deadLetterQueueName("dev", fits[0]!.replicas[0]!.agentId)).toHaveLength(80);
    expect(() => resolveDeployments(withSlugs(30, 30), "dev")).toThrow(/SQS/);
  });
});

describe("names", () => {
  test("a replica is {team}-{agentType}-{n}", () => {
    expect(replicaName("support-team", "customer-support", 2)).toBe("support-team-customer-support-2");
  });

  test("a deployment is named team/agentType on the CLI", () => {
    expect(deploymentKey("support-team", "customer-support")).toBe("support-team/customer-support");
  });

  test("each replica's queue and dead-letter queue carry the stack and the replica", () => {
    expect(queueName("dev", "support-team-customer-support-1")).toBe("agentpool-dev-support-team-customer-support-1");
    expect(deadLetterQueueName("dev", "support-team-customer-support-1")).toBe("agentpool-dev-support-team-customer-support-1-dlq");
  });

  test("tables are per stack, so two stacks in one account do not share data", () => {
    expect(tableNames("dev")).toEqual({
      threads: "agentpool-dev-threads",
      replicas: "agentpool-dev-replicas",
      apiKeys: "agentpool-dev-api-keys",
      apiState: "agentpool-dev-api-state",
    });
    expect(Object.values(tableNames("eu-prod"))).not.toEqual(expect.arrayContaining(Object.values(tableNames("dev"))));
  });
});
