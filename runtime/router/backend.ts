/** Runs a backend call; an AWS failure becomes a 503 the client can retry, API errors pass through. */
import { ApiError, BackendUnavailableError } from "../core/errors";

export async function backend<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    console.error(JSON.stringify({ level: "warn", msg: "backend call failed", what, error: (err as Error).name, detail: (err as Error).message }));
    throw new BackendUnavailableError(what);
  }
}
