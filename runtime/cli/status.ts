/**
 * `agentpool status`: the spec's tree, team → deployment → Desired / Actual / Healthy, then each
 * agent's state, queue depth and p50 latency; for an endpoint served by several deployments (A/B),
 * their figures side by side; the alerts firing below it. `--json` prints the pool's status view
 * as it is (GET /admin/v1/status).
 */
import { adminGet, type PoolTarget } from "./pool-client";
import { out, paint } from "./output";

export interface StatusOptions extends PoolTarget {
  json?: boolean;
}

interface AgentView { agent_id: string; state: string; healthy: boolean; queue_depth: number; p50_latency_ms: number | null; answered: number }
interface DeploymentView {
  deployment: string;
  endpoint: string;
  desired: number;
  actual: number;
  healthy: number;
  queue_depth: number;
  agents: AgentView[];
  /** Over the monitor's kept window (absent from pools older than issue 8). */
  endpoint_deployments?: number;
  traffic_weight?: number | null;
  asks?: number;
  answered?: number;
  errors?: number;
  share_of_endpoint?: number | null;
  p50_latency_ms?: number | null;
  p95_latency_ms?: number | null;
}
interface AlertView { rule: string; deployment: string; message: string; since: string }
export interface StatusView {
  stack: string;
  teams: { team: string; name: string; deployments: DeploymentView[] }[];
  alerts: { firing: AlertView[]; pending: AlertView[] };
}

export async function statusCommand(opts: StatusOptions): Promise<void> {
  const status = await adminGet<StatusView>(opts, "/admin/v1/status");
  if (opts.json) return out(JSON.stringify(status));
  out(`${paint.bold(`stack ${status.stack}`)}`);
  status.teams.forEach((team, ti) => {
    const lastTeam = ti === status.teams.length - 1;
    out(`${lastTeam ? "└─" : "├─"} ${paint.bold(team.team)}`);
    const tp = lastTeam ? "   " : "│  ";
    team.deployments.forEach((d, di) => {
      const lastDep = di === team.deployments.length - 1;
      const health = d.healthy < d.desired ? paint.red(`Healthy ${d.healthy}`) : paint.green(`Healthy ${d.healthy}`);
      out(`${tp}${lastDep ? "└─" : "├─"} ${d.deployment}  Desired ${d.desired} / Actual ${d.actual} / ${health}  ${paint.dim(`/api/v1/ask/${d.endpoint}`)}`);
      const dp = tp + (lastDep ? "   " : "│  ");
      d.agents.forEach((a, ai) => {
        const state = a.healthy ? paint.green(a.state.padEnd(8)) : a.state === "draining" ? paint.yellow(a.state.padEnd(8)) : paint.red(a.state.padEnd(8));
        const p50 = a.p50_latency_ms === null ? "—" : `${a.p50_latency_ms} ms`;
        out(`${dp}${ai === d.agents.length - 1 ? "└─" : "├─"} ${a.agent_id.padEnd(32)} ${state}  depth ${String(a.queue_depth).padStart(2)}  p50 ${p50}`);
      });
    });
  });
  printAbComparison(status);
  printAlerts(status.alerts);
}

/** One table per endpoint served by several deployments: weight, share of answers, errors, p50/p95. */
export function printAbComparison(status: StatusView): void {
  const byEndpoint = new Map<string, DeploymentView[]>();
  for (const d of status.teams.flatMap((t) => t.deployments)) byEndpoint.set(d.endpoint, [...(byEndpoint.get(d.endpoint) ?? []), d]);
  for (const [endpoint, deployments] of byEndpoint) {
    if (deployments.length < 2) continue;
    const width = Math.max(10, ...deployments.map((d) => d.deployment.length));
    const ms = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${v} ms`);
    out(paint.bold(`A/B on /api/v1/ask/${endpoint}`) + paint.dim(" (last 5 min)"));
    out(`  ${"deployment".padEnd(width)}  weight  share  answered  errors  p50       p95`);
    for (const d of deployments) {
      const weight = d.traffic_weight === null || d.traffic_weight === undefined ? "—" : String(d.traffic_weight);
      const share = d.share_of_endpoint === null || d.share_of_endpoint === undefined ? "—" : `${Math.round(d.share_of_endpoint * 100)} %`;
      out(
        `  ${d.deployment.padEnd(width)}  ${weight.padStart(6)}  ${share.padStart(5)}  ${String(d.answered ?? "—").padStart(8)}  ${String(d.errors ?? "—").padStart(6)}  ${ms(d.p50_latency_ms).padEnd(8)}  ${ms(d.p95_latency_ms)}`,
      );
    }
  }
}

export function printAlerts(alerts: StatusView["alerts"]): void {
  if (alerts.firing.length === 0) out(paint.green("no alerts firing"));
  for (const a of alerts.firing) out(paint.red(`ALERT ${a.deployment} ${a.rule}: ${a.message} (since ${a.since})`));
  for (const a of alerts.pending) out(paint.yellow(`pending ${a.deployment} ${a.rule}: ${a.message} (since ${a.since})`));
}
