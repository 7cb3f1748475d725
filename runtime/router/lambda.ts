/**
 * The router Lambda's entry (API Gateway HTTP API, payload format 2.0). The local gateway wraps
 * its router with the same `lambdaHandler`, so both run the same event → response path.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createRouter, type Router } from "./app";
import { routerConfigFromEnv } from "./config";
import { fromApiGatewayEvent, toApiGatewayResult } from "./http";

export type LambdaHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Builds the router on the first event, then reuses it for every invocation of the environment. */
export function lambdaHandler(build: () => Router): LambdaHandler {
  let router: Router | undefined;
  return async (event) => {
    router ??= build();
    return toApiGatewayResult(await router.handle(fromApiGatewayEvent(event)));
  };
}

export const handler: LambdaHandler = lambdaHandler(() => createRouter(routerConfigFromEnv(process.env)));
