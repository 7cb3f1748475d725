/**
 * Sizes and limits, as plain functions so the components never guess.
 *
 * API Gateway HTTP APIs end an integration after at most 30 s
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html), so the
 * router Lambda must finish before that: its timeout sits above the router's own deadline (the
 * router answers 504 TIMEOUT itself) and below the gateway's limit.
 *
 *   0 s ──────────── deadlineMs ── +1 s ── Lambda timeout (≤ 29 s) ── 30 s gateway limit
 *        ask waits       router answers 504     Lambda killed            gateway gives up
 */

export const API_GATEWAY_INTEGRATION_LIMIT_MS = 30_000;
export const MAX_LAMBDA_TIMEOUT_SECONDS = API_GATEWAY_INTEGRATION_LIMIT_MS / 1000 - 1;

export function lambdaTimeoutSeconds(deadlineMs: number): number {
  if (!Number.isInteger(deadlineMs) || deadlineMs <= 0) throw new Error(`router deadlineMs must be a positive integer, got ${deadlineMs}`);
  const seconds = Math.ceil(deadlineMs / 1000) + 1;
  if (seconds > MAX_LAMBDA_TIMEOUT_SECONDS) {
    throw new Error(
      `router deadlineMs ${deadlineMs} leaves no room under API Gateway's 30 s integration limit; ` +
        `use at most ${(MAX_LAMBDA_TIMEOUT_SECONDS - 1) * 1000} (agentpool:router.deadlineMs)`,
    );
  }
  return seconds;
}

/** Fargate's valid cpu → memory (MiB) combinations (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html). */
const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

export interface TaskSize {
  cpu: number;
  memory: number;
}

/**
 * A worker spends its time waiting on the model, not computing: the smallest task serves one
 * answer at a time; more concurrent answers get more memory for their in-flight histories.
 */
export function defaultTaskSize(maxConcurrency: number): TaskSize {
  if (maxConcurrency <= 2) return { cpu: 256, memory: 512 };
  if (maxConcurrency <= 8) return { cpu: 512, memory: 1024 };
  return { cpu: 1024, memory: 2048 };
}

export function checkTaskSize(size: TaskSize): TaskSize {
  const valid = FARGATE_MEMORY[size.cpu];
  if (!valid) throw new Error(`worker cpu ${size.cpu} is not a Fargate size; use one of ${Object.keys(FARGATE_MEMORY).join(", ")}`);
  if (!valid.includes(size.memory)) {
    throw new Error(`worker memory ${size.memory} MiB does not fit cpu ${size.cpu} on Fargate; use one of ${valid.join(", ")}`);
  }
  return size;
}
