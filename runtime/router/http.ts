/** The router's own request/response types: the Lambda adapter and the local gateway convert to these. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { ApiError } from "../core/errors";

export interface HttpRequest {
  method: string;
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string | undefined>;
  body?: string;
  requestId: string;
  /** Query string parameters (the last value of a repeated name). */
  query?: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(err: ApiError): HttpResponse {
  return json(err.status, err.toBody(), err.headers);
}

/** API Gateway HTTP API (payload format 2.0) → HttpRequest. */
export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  const query = Object.fromEntries(new URLSearchParams(event.rawQueryString ?? ""));
  return { method: event.requestContext.http.method.toUpperCase(), path: event.rawPath, headers, body, requestId: event.requestContext.requestId, query };
}

export function toApiGatewayResult(res: HttpResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: res.status, headers: res.headers, body: res.body, isBase64Encoded: false };
}
