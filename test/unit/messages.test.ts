/** How a thread's turns are ordered and how the system prompt is filled in. */
import fc from "fast-check";
import { renderSystemPrompt, replySortKey, turnSortKey, TURN_PREFIX, type Role } from "../../runtime/core/messages";

const turnArb = fc.record({
  // Small pools of values too, so equal times and equal response ids (the tie-breaks) come up often.
  acceptedAt: fc.oneof(fc.integer({ min: 0, max: 999_999_999_999_999 }), fc.constantFrom(9, 10, 1_700_000_000_000)),
  responseId: fc.oneof(fc.stringMatching(/^resp_[0-9a-f]{32}$/), fc.constantFrom(`resp_${"0".repeat(32)}`, `resp_${"f".repeat(32)}`)),
  role: fc.constantFrom<Role>("user", "assistant"),
});
type TurnKey = { acceptedAt: number; responseId: string; role: Role };

/** The order a thread must read back in: accepted time, then response id, then the user before the assistant. */
function expectedOrder(a: TurnKey, b: TurnKey): number {
  if (a.acceptedAt !== b.acceptedAt) return a.acceptedAt < b.acceptedAt ? -1 : 1;
  if (a.responseId !== b.responseId) return a.responseId < b.responseId ? -1 : 1;
  if (a.role !== b.role) return a.role === "user" ? -1 : 1;
  return 0;
}

const key = (t: TurnKey) => turnSortKey(t.acceptedAt, t.responseId, t.role);
const compare = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

describe("turnSortKey", () => {
  test("sorts turns as strings exactly as by accepted time, response id, then user before assistant", () => {
    fc.assert(
      fc.property(turnArb, turnArb, (a, b) => {
        expect(compare(key(a), key(b))).toBe(expectedOrder(a, b));
      }),
      { numRuns: 1_000 },
    );
  });

  test("orders an ask at 999 ms before one at 1000 ms (times are zero-padded, not compared as text)", () => {
    const [early, late] = [key({ acceptedAt: 999, responseId: "resp_b", role: "user" }), key({ acceptedAt: 1_000, responseId: "resp_a", role: "user" })];

    expect([late, early].sort()).toEqual([early, late]);
  });

  test("puts the question before its answer", () => {
    const at = 1_700_000_000_000;

    expect(turnSortKey(at, "resp_x", "user") < turnSortKey(at, "resp_x", "assistant")).toBe(true);
  });

  test("gives a retried write of the same turn the same key, so it cannot be stored twice", () => {
    fc.assert(
      fc.property(turnArb, (t) => {
        expect(key(t)).toBe(key({ ...t }));
      }),
    );
  });

  test("keeps turns apart from the reply records of the same thread", () => {
    const turn = turnSortKey(1, "resp_x", "user");

    expect(turn.startsWith(TURN_PREFIX)).toBe(true);
    expect(replySortKey("resp_x").startsWith(TURN_PREFIX)).toBe(false);
  });
});

describe("renderSystemPrompt", () => {
  test("fills {{NAME}} placeholders with context variables", () => {
    const { prompt } = renderSystemPrompt("You work for {{COMPANY_NAME}}.", { COMPANY_NAME: "Acme" });

    expect(prompt).toBe("You work for Acme.");
  });

  test("tolerates spaces inside the braces and fills every occurrence", () => {
    const { prompt } = renderSystemPrompt("{{ COMPANY }} and {{COMPANY}}", { COMPANY: "Acme" });

    expect(prompt).toBe("Acme and Acme");
  });

  test("returns the variables that have no placeholder, so they can be passed on apart", () => {
    const { rest } = renderSystemPrompt("You work for {{COMPANY_NAME}}.", { COMPANY_NAME: "Acme", ORDER_ID: "42" });

    expect(rest).toEqual({ ORDER_ID: "42" });
  });

  test("leaves a placeholder without a variable as it is", () => {
    const { prompt, rest } = renderSystemPrompt("Hello {{CUSTOMER}}", {});

    expect(prompt).toBe("Hello {{CUSTOMER}}");
    expect(rest).toEqual({});
  });

  test("returns the template unchanged when given no variables", () => {
    expect(renderSystemPrompt("Plain prompt.")).toEqual({ prompt: "Plain prompt.", rest: {} });
  });

  test("inserts values literally: no second expansion, no $-patterns", () => {
    const { prompt } = renderSystemPrompt("A={{A}} B={{B}}", { A: "{{B}}", B: "$& $1 $$" });

    expect(prompt).toBe("A={{B}} B=$& $1 $$");
  });

  test("every variable is either used in the prompt or returned apart, never both, never lost", () => {
    const name = fc.stringMatching(/^[A-Z][A-Z0-9]{0,5}(_[A-Z0-9]{1,4}){0,2}$/);
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string({ maxLength: 10 }), { maxKeys: 6 }),
        fc.array(name, { maxLength: 6 }),
        (vars, placeholders) => {
          const template = placeholders.map((p) => `<{{${p}}}>`).join(" ");

          const { prompt, rest } = renderSystemPrompt(template, vars);

          for (const [k, v] of Object.entries(vars)) {
            const used = placeholders.includes(k);
            expect(k in rest).toBe(!used);
            if (used) expect(prompt).toContain(`<${v}>`);
            else expect(rest[k]).toBe(v);
          }
          expect(Object.keys(rest).every((k) => k in vars)).toBe(true);
        },
      ),
    );
  });
});
