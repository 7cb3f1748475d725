/** Validation of `POST /api/v1/ask/{endpoint_slug}` bodies (DESIGN §5): every bad body is a 400 that says why. */
import fc from "fast-check";
import { MAX_CONTENT_CHARS, parseAskRequest } from "../../runtime/core/api";
import { ApiError, InvalidRequestError, MessageTooLongError } from "../../runtime/core/errors";

const THREAD = "thr_0123456789abcdef0123456789abcdef";

function rejection(body: string | undefined): ApiError {
  try {
    parseAskRequest(body);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error(`expected ${body} to be rejected, but it was accepted`);
}

const json = (value: unknown) => JSON.stringify(value);

describe("parseAskRequest accepts", () => {
  test("a body with only content", () => {
    expect(parseAskRequest(json({ content: "Where is my order?" }))).toEqual({ content: "Where is my order?" });
  });

  test("a follow-up with a thread id and context variables", () => {
    const body = { content: "And now?", thread_id: THREAD, context_variables: { COMPANY_NAME: "Acme", ORDER_ID_2: "42" } };

    expect(parseAskRequest(json(body))).toEqual(body);
  });

  test("content of exactly 10,000 characters", () => {
    const content = "x".repeat(MAX_CONTENT_CHARS);

    expect(parseAskRequest(json({ content })).content).toHaveLength(10_000);
  });

  test("20 context variables", () => {
    const vars = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`VAR_${i}`, "v"]));

    expect(parseAskRequest(json({ content: "hi", context_variables: vars })).context_variables).toEqual(vars);
  });

  test("context variables of up to 4 KB in all", () => {
    // {"A":"…"} is 8 bytes of JSON around the value.
    const vars = { A: "v".repeat(4096 - 8) };

    expect(parseAskRequest(json({ content: "hi", context_variables: vars })).context_variables).toEqual(vars);
  });
});

describe("parseAskRequest rejects with 400 INVALID_REQUEST", () => {
  test.each([
    ["an empty body", ""],
    ["no body", undefined],
    ["malformed JSON", '{"content": "hi"'],
    ["plain text", "Where is my order?"],
  ])("%s, asking for a JSON object", (_, body) => {
    const error = rejection(body);

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.status).toBe(400);
    expect(error.errorCode).toBe("INVALID_REQUEST");
    expect(error.message).toBe("request body must be a JSON object");
  });

  test.each([
    ["null", "null"],
    ["an array", '[{"content": "hi"}]'],
    ["a string", '"hi"'],
    ["a number", "42"],
  ])("a body that is %s", (_, body) => {
    const error = rejection(body);

    expect(error.errorCode).toBe("INVALID_REQUEST");
    expect(error.message).toMatch(/expected object/);
  });

  test("a body without content, naming the field", () => {
    const error = rejection(json({ thread_id: THREAD }));

    expect(error.errorCode).toBe("INVALID_REQUEST");
    expect(error.details).toEqual({ problems: [{ field: "content", problem: expect.stringContaining("expected string") }] });
  });

  test.each([["" ], ["   "], ["\n\t"]])("content %j, saying it must not be empty", (content) => {
    const error = rejection(json({ content }));

    expect(error.message).toBe("invalid request: content: content must not be empty");
  });

  test.each([
    ["a number", 42],
    ["an array", ["hi"]],
    ["an object", { text: "hi" }],
    ["null", null],
  ])("content that is %s", (_, content) => {
    const error = rejection(json({ content }));

    expect(error.errorCode).toBe("INVALID_REQUEST");
    expect(error.message).toMatch(/^invalid request: content: /);
  });

  test("an unknown field, naming it (a typo must not silently start a new thread)", () => {
    const error = rejection(json({ content: "hi", thread: THREAD }));

    expect(error.errorCode).toBe("INVALID_REQUEST");
    expect(error.message).toContain('"thread"');
  });

  test.each([
    ["not prefixed", "0123456789abcdef0123456789abcdef"],
    ["too short", "thr_123"],
    ["upper-case hex", "thr_0123456789ABCDEF0123456789ABCDEF"],
    ["a number", 7],
  ])("a thread_id that is %s", (_, thread_id) => {
    const error = rejection(json({ content: "hi", thread_id }));

    expect(error.errorCode).toBe("INVALID_REQUEST");
    expect(error.message).toMatch(/thread_id: /);
  });

  test.each(["company_name", "CompanyName", "1ST", "A__B", "_A", "A_", "A-B", ""])("a context variable named %j, naming the key", (key) => {
    const error = rejection(json({ content: "hi", context_variables: { [key]: "x" } }));

    expect(error.errorCode).toBe("INVALID_REQUEST");
    expect(error.message).toMatch(/context_variables/);
  });

  test("a context variable whose value is not a string", () => {
    const error = rejection(json({ content: "hi", context_variables: { ORDER_ID: 42 } }));

    expect(error.message).toContain("context_variables.ORDER_ID: ");
  });

  test("context variables that are a list", () => {
    const error = rejection(json({ content: "hi", context_variables: ["A"] }));

    expect(error.message).toContain("context_variables: ");
  });

  test("more than 20 context variables", () => {
    const vars = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`VAR_${i}`, "v"]));

    const error = rejection(json({ content: "hi", context_variables: vars }));

    expect(error.message).toContain("context_variables: at most 20 variables");
  });

  test("context variables of more than 4 KB in all", () => {
    const vars = { A: "v".repeat(4096 - 7) };

    const error = rejection(json({ content: "hi", context_variables: vars }));

    expect(error.message).toContain("context_variables: at most 4096 bytes in all");
  });

  test("counts the 4 KB in bytes, not characters", () => {
    const vars = { A: "é".repeat(2100) };

    const error = rejection(json({ content: "hi", context_variables: vars }));

    expect(error.message).toContain("at most 4096 bytes");
  });

  test("lists every problem of the body at once", () => {
    const error = rejection(json({ content: 1, thread_id: "x", extra: true }));

    const fields = (error.details as { problems: { field: string }[] }).problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(["content", "thread_id", "extra"]));
  });
});

describe("parseAskRequest rejects long content with 400 MESSAGE_TOO_LONG", () => {
  test("content of 10,001 characters, saying the length and the limit", () => {
    const error = rejection(json({ content: "x".repeat(10_001) }));

    expect(error).toBeInstanceOf(MessageTooLongError);
    expect(error.status).toBe(400);
    expect(error.errorCode).toBe("MESSAGE_TOO_LONG");
    expect(error.details).toEqual({ length: 10_001, max_length: 10_000 });
  });

  test("long content even when the body has other problems", () => {
    const error = rejection(json({ content: "x".repeat(20_000), thread: "typo" }));

    expect(error.errorCode).toBe("MESSAGE_TOO_LONG");
  });
});

describe("parseAskRequest on arbitrary input (fuzz)", () => {
  const onlyApi400 = (body: string) => {
    try {
      parseAskRequest(body);
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(400);
      expect(["INVALID_REQUEST", "MESSAGE_TOO_LONG"]).toContain((err as ApiError).errorCode);
    }
  };

  test("an arbitrary string is parsed or rejected with a 400, never anything else", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), onlyApi400), { numRuns: 300 });
  });

  test("an arbitrary JSON value is parsed or rejected with a 400, never anything else", () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => onlyApi400(JSON.stringify(value))), { numRuns: 300 });
  });

  test("an ask-shaped object with arbitrary field values is parsed or rejected with a 400", () => {
    const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string(), fc.constant(THREAD), fc.constant(undefined));
    const ask = fc.record(
      {
        content: field,
        thread_id: field,
        context_variables: fc.oneof(field, fc.dictionary(fc.string({ maxLength: 12 }), field, { maxKeys: 25 })),
        ["__proto__"]: field,
        extra: field,
      },
      { requiredKeys: [] },
    );

    fc.assert(fc.property(ask, (value) => onlyApi400(JSON.stringify(value))), { numRuns: 300 });
  });

  test("whatever it accepts has non-empty content of at most 10,000 characters and only known fields", () => {
    const ask = fc.record({ content: fc.string({ maxLength: 40 }), thread_id: fc.constant(THREAD) }, { requiredKeys: ["content"] });

    fc.assert(
      fc.property(ask, (value) => {
        let parsed;
        try {
          parsed = parseAskRequest(JSON.stringify(value));
        } catch {
          return;
        }
        expect(parsed.content.trim()).not.toBe("");
        expect(parsed.content.length).toBeLessThanOrEqual(MAX_CONTENT_CHARS);
        expect(Object.keys(parsed).every((k) => ["content", "thread_id", "context_variables"].includes(k))).toBe(true);
      }),
    );
  });
});
