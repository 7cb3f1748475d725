/** Public identifiers: random, 128 bits or more, never sequential. */
import { randomBytes } from "node:crypto";

export const newThreadId = (): string => `thr_${randomBytes(16).toString("hex")}`;
export const newResponseId = (): string => `resp_${randomBytes(16).toString("hex")}`;
export const isThreadId = (s: string): boolean => /^thr_[0-9a-f]{32}$/.test(s);
