/**
 * `agentpool status`: the spec's tree, team → deployment → Desired / Actual / Healthy, then each
 * agent's state, queue depth and p50 latency; the alerts firing below it. `--json` prints the
 * pool's status view as it is (GET /admin/v1/status).
 */
import { adminGet, type PoolTarget } from "./pool-client";
import { out, paint } from "./output";

export interface StatusOptions extends PoolTarget {
  json?: boolean;
}

interface AgentView { agent_id: string; state: string; healthy: boolean; queue_depth: number; p50_latency_ms: number | null; answered: number }
interface DeploymentView { deployment: string; endpoint: string; desired: number; actual: number; healthy: number; queue_depth: number; agents: AgentView[] }
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
  printAlerts(status.alerts);
}

export function printAlerts(alerts: StatusView["alerts"]): void {
  if (alerts.firing.length === 0) out(paint.green("no alerts firing"));
  for (const a of alerts.firing) out(paint.red(`ALERT ${a.deployment} ${a.rule}: ${a.message} (since ${a.since})`));
  for (const a of alerts.pending) out(paint.yellow(`pending ${a.deployment} ${a.rule}: ${a.message} (since ${a.since})`));
}
