/**
 * Proves that Pulumi's Node.js runtime can load the stack program: the entry runs through Pulumi's
 * own loader (`@pulumi/pulumi/cmd/run`, ts-node mode with the project's TypeScript and
 * infra/tsconfig.json), not through jest's transform. See support/pulumi-run-harness.js.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { readStackFile, REPO_ROOT, STACKS_DIR, TEST_PROVIDER_KEY, withProviderKeys } from "./support/stack-run";

const HARNESS = join(__dirname, "support", "pulumi-run-harness.js");

/** The language host's form of config keys (`<namespace>:config:<name>`). */
function languageHostConfig(config: Record<string, string>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(":", ":config:"), v])));
}

// A program error under this loader is not tested here: the message is printed at once (it is a
// pulumi.RunError), but cmd/run then spends 25-45 s of CPU in util.inspect of the error (for its
// tracing span) before exiting. The same error is checked under mocks in program-options.test.ts.
async function runLikePulumi(stack: string, config: Record<string, string>, secretKeys: string[]) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PULUMI_NODEJS_TYPESCRIPT: "true",
    PULUMI_CONFIG: languageHostConfig(config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
  };
  return promisify(execFile)(process.execPath, [HARNESS, REPO_ROOT, stack], { cwd: REPO_ROOT, env, timeout: 50_000, maxBuffer: 16 << 20 });
}

test("Pulumi's runtime loads infra/ from TypeScript with ts-node and runs the dev stack to its outputs", async () => {
  const input = withProviderKeys(readStackFile(join(STACKS_DIR, "Pulumi.dev.yaml")));

  const { stdout } = await runLikePulumi(input.stack, input.config, input.secretKeys);

  const result = JSON.parse(stdout.trim().split("\n").pop()!);
  expect(result.cwd).toBe("infra");
  // Pulumi's vendored ts-node 7.0.1 with the project's TypeScript (infra/tsconfig.json makes that work).
  expect(result.compilers.sort()).toEqual(["node_modules/@pulumi/pulumi/vendor/ts-node@7.0.1/index.js", "node_modules/typescript/lib/typescript.js"]);
  // The program and the runtime code it reuses were compiled from .ts by Pulumi's ts-node.
  expect(result.loadedTs).toEqual(expect.arrayContaining(["infra/index.ts", "infra/program.ts", "runtime/core/spec.ts", "runtime/core/naming.ts"]));
  expect(result.outputs.askUrls).toEqual({ support: expect.stringMatching(/^https:\/\/.+\/api\/v1\/ask\/support$/) });
  expect(result.outputs.agents).toEqual(["support-team-customer-support-1", "support-team-customer-support-2", "support-team-customer-support-3"]);
  expect(result.resources["aws:ecs/service:Service"]).toBe(1);
  expect(result.resources["aws:sqs/queue:Queue"]).toBe(6);
  expect(stdout).not.toContain(TEST_PROVIDER_KEY);
});
