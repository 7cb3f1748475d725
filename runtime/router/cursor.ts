/** History page cursors: the last turn's sort key, base64url-encoded (opaque to clients, checked on the way back in). */
import { InvalidRequestError } from "../core/errors";

const TURN_KEY = /^T#\d{15}#resp_[0-9a-f]{32}#[01]$/;

export function encodeCursor(sortKey: string): string {
  return Buffer.from(sortKey, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): string {
  const sortKey = Buffer.from(cursor, "base64url").toString("utf8");
  if (!TURN_KEY.test(sortKey)) {
    throw new InvalidRequestError("invalid request: cursor: not a cursor from this API", { problems: [{ field: "cursor", problem: "not a next_cursor value" }] });
  }
  return sortKey;
}
