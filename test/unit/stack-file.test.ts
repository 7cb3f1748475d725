/** Reading `stacks/Pulumi.<stack>.yaml`: every way a file can be wrong ends in a SpecError a person can act on. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadStackFile, stackFilePath } from "../../runtime/local/stack-file";
import { SpecError } from "../../runtime/core/spec";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "agentpool-stack-file-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function loadError(path: string): SpecError {
  try {
    loadStackFile(path);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return err as SpecError;
  }
  throw new Error(`expected ${path} to be rejected, but it loaded`);
}

const VALID = `
config:
  aws:region: eu-west-1
  agentpool:providers:
    - name: sim
      kind: simulator
  agentpool:agentTypes:
    - name: Billing
      slug: billing
      endpointSlug: billing
      provider: sim
      model: gpt-4o-mini
      systemPrompt: You answer billing questions.
  agentpool:teams:
    - name: Money
      slug: money
      deployments:
        - agentType: billing
          desiredReplicas: 2
`;

describe("loadStackFile", () => {
  test("loads a valid stack file and takes the stack name from the file name", () => {
    const path = file("Pulumi.eu-prod.yaml", VALID);

    const stack = loadStackFile(path);

    expect(stack.stack).toBe("eu-prod");
    expect(stack.path).toBe(path);
    expect(stack.spec.teams[0]!.deployments[0]).toMatchObject({ agentType: "billing", desiredReplicas: 2 });
  });

  test("loads the repository's dev stack", () => {
    const stack = loadStackFile(stackFilePath("dev", join(__dirname, "..", "..", "stacks")));

    expect(stack.stack).toBe("dev");
    expect(stack.spec.agentTypes.map((a) => a.endpointSlug)).toEqual(["support"]);
  });

  test("a missing file is reported as not found, with its path", () => {
    const path = join(dir, "Pulumi.nope.yaml");

    const error = loadError(path);

    expect(error.problems).toEqual(["file not found"]);
    expect(error.message).toContain(path);
  });

  test("a file not named Pulumi.<stack>.yaml is refused with the naming rule", () => {
    const error = loadError(file("pool.yaml", VALID));

    expect(error.problems).toEqual(["a stack file is named Pulumi.<stack>.yaml"]);
  });

  test("invalid YAML is reported in one line, without a stack trace", () => {
    const error = loadError(file("Pulumi.broken.yaml", "config:\n  agentpool:providers: [\n    - name: sim\n"));

    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^not valid YAML: /);
    expect(error.problems[0]).not.toContain("\n");
    expect(error.message).not.toMatch(/\bat .*\.(js|ts):\d+/);
  });

  test("a duplicated key is reported as invalid YAML", () => {
    const error = loadError(file("Pulumi.dup.yaml", "config:\n  aws:region: a\n  aws:region: b\n"));

    expect(error.problems[0]).toMatch(/^not valid YAML: /);
  });

  test.each([
    ["an empty file", ""],
    ["a file without config", "encryptionsalt: abc\n"],
    ["a config that is not a map", "config: 42\n"],
  ])("%s is reported as missing config, saying where the pool is declared", (_, content) => {
    const error = loadError(file("Pulumi.noconfig.yaml", content));

    expect(error.problems).toEqual(["config: missing (the pool is declared under config: agentpool:...)"]);
  });

  test("a config without the agentpool namespace names what is missing", () => {
    const error = loadError(file("Pulumi.aws-only.yaml", "config:\n  aws:region: us-east-1\n"));

    expect(error.problems).toEqual([expect.stringMatching(/^providers: /), expect.stringMatching(/^agentTypes: /)]);
  });

  test("an invalid declaration names the file and the path of the problem", () => {
    const path = file("Pulumi.typo.yaml", VALID.replace("agentType: billing", "agentType: biling"));

    const error = loadError(path);

    expect(error.source).toBe(path);
    expect(error.problems).toEqual(['teams[0].deployments[0].agentType: unknown agent type "biling"']);
  });
});
