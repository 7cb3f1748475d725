/** What the router puts on a replica's queue and what the worker writes back. */
import { z } from "zod";

export const askMessageSchema = z.object({
  v: z.literal(1),
  response_id: z.string(),
  thread_id: z.string(),
  owner: z.string(),
  endpoint: z.string(),
  agent_id: z.string(),
  content: z.string(),
  context_variables: z.record(z.string(), z.string()).optional(),
  /** Epoch ms at which the router accepted the ask; orders the thread's turns. */
  accepted_at: z.number(),
  /** Epoch ms after which the caller has been told TIMEOUT (the answer is still stored). */
  deadline_at: z.number(),
  /** Set for an async ask (`webhook_url`): the worker delivers the answer to this callback. */
  callback_id: z.string().optional(),
  /**
   * The replica the thread's META named when the ask was routed (for a new thread, the one it was
   * routed to): a worker that answers as that replica need not write the affinity again.
   */
  affinity: z.string().optional(),
  /**
   * The ask opens its thread: there is no history to read, and the worker creates the thread (its
   * META item, with the turns) unless the router already has (async asks). `deployment` is the
   * thread's for A/B.
   */
  first_turn: z.boolean().optional(),
  deployment: z.string().optional(),
});
export type AskMessage = z.infer<typeof askMessageSchema>;

/**
 * The reply record of one ask, written once by whichever worker answers first (a conditional put).
 * Its write decides who counts the ask out of the replica's depth, exactly once:
 *
 *   sync, answered in time ──► the router reads it, counts out, responds
 *   sync, router's deadline first ──► router writes `timed_out` (504); the worker's later answer
 *                                     replaces it and the worker counts out
 *   async (callback_id) ──► the worker that stores the answer counts out
 */
export type ReplyRecord = AnswerRecord | { status: "timed_out"; responseId: string; timedOutAt: number };

export type AnswerRecord =
  | { status: "answered"; responseId: string; agentId: string; content: string; answeredAt: number }
  | { status: "failed"; responseId: string; agentId: string; errorCode: "UPSTREAM_ERROR"; error: string; answeredAt: number };

export type Role = "user" | "assistant";
export interface Turn {
  role: Role;
  content: string;
  responseId: string;
  agentId?: string;
  at: number;
}

/**
 * Sort key of a turn: accepted time, then response id, then role order, so a thread reads back in
 * the order its asks were accepted and a retried write lands on the same item (no duplicates).
 */
export function turnSortKey(acceptedAt: number, responseId: string, role: Role): string {
  return `T#${String(acceptedAt).padStart(15, "0")}#${responseId}#${role === "user" ? 0 : 1}`;
}
export const TURN_PREFIX = "T#";
export const replySortKey = (responseId: string): string => `R#${responseId}`;
export const THREAD_META_KEY = "META";

/** Fills `{{NAME}}` placeholders of a system prompt; variables without a placeholder are returned apart. */
export function renderSystemPrompt(template: string, vars: Record<string, string> = {}): { prompt: string; rest: Record<string, string> } {
  const used = new Set<string>();
  const prompt = template.replace(/\{\{\s*([A-Z][A-Z0-9_]*)\s*\}\}/g, (match, name: string) => {
    if (!(name in vars)) return match;
    used.add(name);
    return vars[name]!;
  });
  const rest = Object.fromEntries(Object.entries(vars).filter(([k]) => !used.has(k)));
  return { prompt, rest };
}
