/**
 * The Pulumi program (Pulumi.yaml `main: infra/`). Pulumi's Node.js runtime runs it from this
 * directory: it registers ts-node with infra/tsconfig.json, `require`s this file, calls the
 * exported function inside the stack and exports what it returns as the stack outputs.
 *
 * The components, for programs of your own, are in ./components.
 */
import { agentpoolStack } from "./program";

export = agentpoolStack;
