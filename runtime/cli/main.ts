#!/usr/bin/env node
/** The `agentpool` command. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { Command } from "commander";
import { startCommand } from "./start";
import { scaleCommand } from "./scale";
import { statusCommand } from "./status";
import { alertsCommand } from "./alerts";
import { askCommand } from "./ask";
import { register as registerKeys } from "./keys";
import { targetsRunningPool } from "./pool-client";
import { register as registerPlan } from "./plan";
import { register as registerCost } from "./cost";

const program = new Command("agentpool").description("Load-balanced pools of LLM agents").showHelpAfterError();

program
  .command("start")
  .description("start the embedded local pool of a stack")
  .option("-s, --stack <name>", "stack whose stacks/Pulumi.<name>.yaml declares the pool", "dev")
  .option("-c, --config <path>", "a stack file elsewhere (Pulumi.<name>.yaml)")
  .option("-p, --port <port>", "gateway port on 127.0.0.1 (0 = any free port)", process.env.PORT ?? "8080")
  .option("--data-dir <dir>", "where DynamoDB data persists (and the running pool's admin file)", ".agentpool")
  .option("--ephemeral", "keep everything in memory")
  .option("-v, --verbose", "print every agent log line")
  .action(startCommand);

targetsRunningPool(program.command("scale"))
  .description("change the replica count of a deployment of the running local pool")
  .argument("<deployment>", "TEAM/AGENT-TYPE, e.g. support-team/customer-support")
  .argument("<replicas>", "replicas wanted")
  .option("--json", "print the result as JSON")
  .action(scaleCommand);

targetsRunningPool(program.command("status"))
  .description("the running local pool: team → deployment → Desired / Actual / Healthy, each agent, alerts")
  .option("--json", "print the status as JSON")
  .action(statusCommand);

targetsRunningPool(program.command("alerts"))
  .description("alerts firing and pending on the running local pool")
  .option("--json", "print the alerts as JSON")
  .action(alertsCommand);

targetsRunningPool(program.command("ask"))
  .description("ask an endpoint of the running local pool and print the answer")
  .argument("<endpoint>", "endpoint slug, e.g. support")
  .argument("<message...>", "what to ask")
  .option("-t, --thread <thread_id>", "continue this thread")
  .option("--json", "print the API's response as JSON")
  .action(askCommand);

registerKeys(program);
registerPlan(program);
registerCost(program);

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`agentpool: ${(err as Error).message}\n`);
  process.exit(1);
});
