/** Public identifiers: random, 128 bits or more, never sequential. */
import { randomBytes } from "node:crypto";

export const newThreadId = (): string => `thr_${randomBytes(16).toString("hex")}`;
export const newResponseId = (): string => `resp_${randomBytes(16).toString("hex")}`;
export const isThreadId = (s: string): boolean => /^thr_[0-9a-f]{32}$/.test(s);
export const newCallbackId = (): string => `cb_${randomBytes(16).toString("hex")}`;
export const isCallbackId = (s: string): boolean => /^cb_[0-9a-f]{32}$/.test(s);
/** The owner of a new key when none is given: its own, so its threads are private to it. */
export const newOwnerId = (): string => `own_${randomBytes(12).toString("hex")}`;
