/**
 * Finding a replica by agent id for the direct endpoint. The registry is partitioned by endpoint,
 * so the agent → endpoint map comes from a scan, cached and refreshed at most once a second (an
 * unknown id cannot make every request scan); the row itself is then read fresh, consistently,
 * from its endpoint's partition.
 */
import type { ReplicaRegistry, ReplicaRow } from "../aws/replica-registry";
import { backend } from "./backend";

const REFRESH_MS = 1_000;

export class AgentDirectory {
  private endpoints = new Map<string, string>();
  private refreshedAt = -Infinity;

  constructor(
    private readonly registry: ReplicaRegistry,
    private readonly now: () => number,
  ) {}

  async find(agentId: string): Promise<ReplicaRow | undefined> {
    let endpoint = this.endpoints.get(agentId);
    if (endpoint === undefined && this.now() - this.refreshedAt >= REFRESH_MS) {
      await this.refresh();
      endpoint = this.endpoints.get(agentId);
    }
    if (endpoint === undefined) return undefined;
    const rows = await backend("the replica registry", () => this.registry.listEndpoint(endpoint!));
    const row = rows.find((r) => r.agentId === agentId);
    if (!row) this.endpoints.delete(agentId);
    return row;
  }

  private async refresh(): Promise<void> {
    const rows = await backend("the replica registry", () => this.registry.listAll());
    this.endpoints = new Map(rows.map((r) => [r.agentId, r.endpoint]));
    this.refreshedAt = this.now();
  }
}
