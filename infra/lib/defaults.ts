/**
 * `{ ...defaults, ...args }`, except that an arg explicitly set to `undefined` keeps its default
 * (a plain spread would overwrite it, e.g. `{ deadlineMs: config.deadlineMs }` with no config).
 */
export function withDefaults<D extends object, A extends object>(defaults: D, args: A): Omit<A, keyof D> & { [K in keyof D]: K extends keyof A ? Exclude<A[K], undefined> | D[K] : D[K] } {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(args)) if (v !== undefined) out[k] = v;
  return out as never;
}
