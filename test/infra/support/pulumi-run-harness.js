/**
 * Runs infra/ the way `pulumi up` runs it, minus the engine. Pulumi's language host starts
 *   node node_modules/@pulumi/pulumi/cmd/run --monitor <addr> --project agentpool --stack <stack>
 *        --pwd <project>/infra .
 * (Pulumi.yaml `main: infra/` makes infra/ the program directory and "." the entry), with
 * PULUMI_NODEJS_TYPESCRIPT=true and the stack's config in PULUMI_CONFIG. This script installs
 * Pulumi mocks where the engine's monitor would be (monitor address "mock"), then starts that same
 * cmd/run entry with the same arguments: Pulumi's own code registers ts-node and loads the program.
 *
 * Plain JavaScript on purpose: nothing but Pulumi's own loader may compile TypeScript here.
 * Usage: PULUMI_CONFIG=… PULUMI_CONFIG_SECRET_KEYS=… node pulumi-run-harness.js <repoRoot> <stack>
 * On success prints one JSON line: { outputs, resources: { <type>: count }, loadedTs, compilers, cwd }.
 */
"use strict";
const path = require("node:path");

const [root, stack] = process.argv.slice(2);
const pulumiDir = path.join(root, "node_modules", "@pulumi", "pulumi");
const pulumi = require(pulumiDir);

const region = JSON.parse(process.env.PULUMI_CONFIG || "{}")["aws:region"] || "us-east-1";
const resources = {};
const mocks = {
  newResource(args) {
    resources[args.type] = (resources[args.type] || 0) + 1;
    const id = `${args.name}-id`;
    const name = typeof args.inputs.name === "string" ? args.inputs.name : `${args.name}-1a2b3c`;
    const arn = `arn:aws:mock:${region}:123456789012:${name}`;
    const extra = {
      "aws:sqs/queue:Queue": { url: `https://sqs.${region}.amazonaws.com/123456789012/${name}` },
      "aws:apigatewayv2/api:Api": { apiEndpoint: `https://${id}.execute-api.${region}.amazonaws.com`, executionArn: arn },
      "aws:ecr/repository:Repository": { repositoryUrl: `123456789012.dkr.ecr.${region}.amazonaws.com/${name}`, registryId: "123456789012" },
      "aws:ecs/cluster:Cluster": { arn: `arn:aws:ecs:${region}:123456789012:cluster/${name}` },
      "docker-build:index:Image": { ref: `${(args.inputs.tags || ["image"])[0]}@sha256:${"ab".repeat(32)}` },
    }[args.type];
    return { id, state: { ...args.inputs, arn, ...extra } };
  },
  call(args) {
    switch (args.token) {
      case "aws:index/getRegion:getRegion":
        return { name: region, region };
      case "aws:index/getAvailabilityZones:getAvailabilityZones":
        return { names: [`${region}a`, `${region}b`] };
      case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
        return { userName: "AWS", password: "mock" };
      default:
        throw new Error(`unmocked invoke ${args.token}`);
    }
  },
};

async function main() {
  await pulumi.runtime.setMocks(mocks, "agentpool", stack, false);
  const settings = require(path.join(pulumiDir, "runtime", "settings"));
  const rpc = require(path.join(pulumiDir, "runtime", "rpc"));
  // The stack's outputs reach the engine as the Stack resource's registered outputs.
  const monitor = settings.getMonitor();
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  let outputs;
  monitor.registerResourceOutputs = (req, callback) => {
    if (req.getUrn().includes("::pulumi:pulumi:Stack::")) outputs = rpc.deserializeProperties(req.getOutputs());
    return registerOutputs(req, callback);
  };
  process.on("exit", (code) => {
    if (code !== 0) return;
    const loadedTs = Object.keys(require.cache)
      .filter((f) => f.endsWith(".ts") && !f.includes("node_modules"))
      .map((f) => path.relative(root, f))
      .sort();
    // Which ts-node and TypeScript compiled it (Pulumi picks the project's, else its vendored ones).
    const compilers = Object.keys(require.cache)
      .map((f) => path.relative(root, f))
      .filter((f) => /(^|\/)(ts-node@[^/]+|ts-node)\/(dist\/)?index\.js$|typescript\/lib\/typescript\.js$/.test(f));
    process.stdout.write(JSON.stringify({ outputs, resources, loadedTs, compilers, cwd: path.relative(root, process.cwd()) || "." }) + "\n");
  });
  process.argv = [process.argv[0], path.join(pulumiDir, "cmd", "run"), "--monitor", "mock", "--project", "agentpool", "--stack", stack, "--pwd", path.join(root, "infra"), "."];
  require(path.join(pulumiDir, "cmd", "run"));
}

main().catch((err) => {
  process.stderr.write(`harness failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
