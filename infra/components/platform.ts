import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { TABLE_KEYS } from "../../runtime/aws/tables";
import { hashApiKey, isWellFormedApiKey, visiblePrefix } from "../../runtime/core/keys";
import type { TableNames } from "../../runtime/core/naming";
import type { routerApiSettings } from "../../runtime/router/config";
import { bundleRouter, ROUTER_HANDLER } from "../lib/bundle";
import { accessLogGroupName, checkPoolName, repositoryName, routerFunctionName, routerLogGroupName, tableNames } from "../lib/names";
import { subnetCidrs } from "../lib/network";
import { withDefaults } from "../lib/defaults";
import { assumeRolePolicy, routerPolicy } from "../lib/policies";
import { ROUTER_CONFIG_ENV, routerConfig } from "../lib/runtime-config";
import { API_GATEWAY_INTEGRATION_LIMIT_MS, lambdaTimeoutSeconds } from "../lib/sizing";
import { WorkerImage } from "./worker-image";

/** Routes of the v1 API the router serves; `$default` sends later routes to it without a deploy. */
export const ROUTE_KEYS = ["POST /api/v1/ask/{endpoint_slug}", "GET /api/v1/agents", "GET /healthz", "$default"] as const;

/** One JSON line per request in the access log (no headers, no bodies: keys never reach logs). */
export const ACCESS_LOG_FORMAT = {
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  method: "$context.httpMethod",
  routeKey: "$context.routeKey",
  path: "$context.path",
  status: "$context.status",
  responseLength: "$context.responseLength",
  integrationLatency: "$context.integrationLatency",
  latency: "$context.responseLatency",
  integrationError: "$context.integrationErrorMessage",
};

export interface NetworkArgs {
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Public subnets need a public IP for workers to reach the model API and AWS; private ones a NAT or endpoints. */
  readonly assignPublicIp?: pulumi.Input<boolean>;
}

export interface AgentPlatformArgs {
  /** Endpoint slugs the router serves (every agent type's `endpointSlug`). */
  readonly endpoints: pulumi.Input<pulumi.Input<string>[]>;
  /** Names tables, queues, the router and the repository (`agentpool-<poolName>-…`). Default: the stack name. */
  readonly poolName?: string;
  /** How long an ask waits for its answer (ms). Sizes the Lambda timeout, so plain. Default 25,000. */
  readonly deadlineMs?: number;
  /** Per-deployment rate limits and A/B weights for the router, from `routerApiSettings(spec)`. */
  readonly routerSettings?: Pick<ReturnType<typeof routerApiSettings>, "rateLimits" | "routing">;
  /** Existing subnets and security groups for the workers; by default a VPC with two public subnets is created. */
  readonly network?: NetworkArgs;
  /** CIDR of the created VPC. Default 10.40.0.0/16. */
  readonly vpcCidr?: string;
  /** A prebuilt worker image; skips the Docker build and the ECR repository. */
  readonly workerImage?: pulumi.Input<string>;
  /** Stage-wide API Gateway throttling. Defaults: burst 200, 100 requests/s. */
  readonly throttling?: { readonly burstLimit?: pulumi.Input<number>; readonly rateLimit?: pulumi.Input<number> };
  /** Retention of the router, access and worker logs. Default 30 days. */
  readonly logRetentionDays?: pulumi.Input<number>;
  readonly routerMemoryMb?: pulumi.Input<number>;
  /** Protects the tables from deletion (and `pulumi destroy`). Default false. */
  readonly deletionProtection?: pulumi.Input<boolean>;
  /** A `cust_…` client key to install (only its SHA-256 hash is stored), so the pool answers right after `pulumi up`. */
  readonly bootstrapApiKey?: pulumi.Input<string>;
}

/**
 * The shared part of a pool: network, ECS cluster, DynamoDB tables, the router Lambda behind an
 * HTTP API, log groups and the router's IAM role. Deployments run their workers on it.
 *
 *   client ─► HTTP API ($default stage, throttled, access-logged) ─► router Lambda ─► SQS ─► workers
 */
export class AgentPlatform extends pulumi.ComponentResource {
  readonly poolName: string;
  readonly tableNames: TableNames;
  readonly tables: Record<keyof TableNames, aws.dynamodb.Table>;
  readonly cluster: aws.ecs.Cluster;
  readonly vpc?: aws.ec2.Vpc;
  readonly subnetIds: pulumi.Output<string[]>;
  readonly securityGroupIds: pulumi.Output<string[]>;
  readonly assignPublicIp: pulumi.Output<boolean>;
  readonly region: pulumi.Output<string>;
  readonly logRetentionDays: pulumi.Input<number>;
  readonly workerImage: WorkerImage;
  readonly routerRole: aws.iam.Role;
  readonly routerFunction: aws.lambda.Function;
  readonly api: aws.apigatewayv2.Api;
  readonly stage: aws.apigatewayv2.Stage;
  readonly routes: aws.apigatewayv2.Route[];
  /** Base URL of the API, e.g. `https://abc123.execute-api.us-east-1.amazonaws.com`. */
  readonly apiUrl: pulumi.Output<string>;

  constructor(name: string, args: AgentPlatformArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("agentpool:index:AgentPlatform", name, {}, opts);
    const a = withDefaults(
      { poolName: pulumi.getStack(), deadlineMs: 25_000, vpcCidr: "10.40.0.0/16", logRetentionDays: 30 as pulumi.Input<number>, routerMemoryMb: 512 as pulumi.Input<number>, deletionProtection: false as pulumi.Input<boolean> },
      args,
    );
    const throttling = withDefaults({ burstLimit: 200 as pulumi.Input<number>, rateLimit: 100 as pulumi.Input<number> }, args.throttling ?? {});
    this.poolName = checkPoolName(a.poolName);
    const timeout = lambdaTimeoutSeconds(a.deadlineMs);
    const pool = this.poolName;
    const parent = { parent: this };
    this.logRetentionDays = a.logRetentionDays;
    this.region = aws.getRegionOutput({}, parent).region;

    // Network: given, or a VPC with two public subnets and a security group with no inbound rule
    // (workers only make outbound calls: SQS, DynamoDB, the model API).
    if (a.network) {
      this.subnetIds = pulumi.output(a.network.subnetIds);
      this.securityGroupIds = pulumi.output(a.network.securityGroupIds);
      this.assignPublicIp = pulumi.output(a.network.assignPublicIp ?? false);
    } else {
      const vpc = new aws.ec2.Vpc(name, { cidrBlock: a.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: `agentpool-${pool}` } }, parent);
      const igw = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags: { Name: `agentpool-${pool}` } }, parent);
      const routeTable = new aws.ec2.RouteTable(name, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: { Name: `agentpool-${pool}-public` } }, parent);
      const zones = aws.getAvailabilityZonesOutput({ state: "available" }, parent);
      const subnets = subnetCidrs(a.vpcCidr, 2).map((cidrBlock, i) => {
        const subnet = new aws.ec2.Subnet(
          `${name}-public-${i + 1}`,
          { vpcId: vpc.id, cidrBlock, availabilityZone: zones.names.apply((z) => z[i % z.length]!), mapPublicIpOnLaunch: true, tags: { Name: `agentpool-${pool}-public-${i + 1}` } },
          parent,
        );
        new aws.ec2.RouteTableAssociation(`${name}-public-${i + 1}`, { subnetId: subnet.id, routeTableId: routeTable.id }, parent);
        return subnet;
      });
      const sg = new aws.ec2.SecurityGroup(
        `${name}-workers`,
        {
          vpcId: vpc.id,
          description: `agentpool ${pool} workers: outbound only`,
          egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }],
          tags: { Name: `agentpool-${pool}-workers` },
        },
        parent,
      );
      this.vpc = vpc;
      this.subnetIds = pulumi.all(subnets.map((s) => s.id));
      this.securityGroupIds = pulumi.all([sg.id]);
      this.assignPublicIp = pulumi.output(true);
    }

    this.cluster = new aws.ecs.Cluster(name, { settings: [{ name: "containerInsights", value: "enabled" }] }, parent);

    // Tables: the runtime's key schemas, on demand.
    this.tableNames = tableNames(pool);
    const tables = {} as Record<keyof TableNames, aws.dynamodb.Table>;
    for (const key of Object.keys(TABLE_KEYS) as (keyof TableNames)[]) {
      const def = TABLE_KEYS[key];
      const keys = [def.hashKey, ...(def.rangeKey ? [def.rangeKey] : [])];
      tables[key] = new aws.dynamodb.Table(
        `${name}-${key}`,
        {
          name: this.tableNames[key],
          billingMode: "PAY_PER_REQUEST",
          hashKey: def.hashKey,
          ...(def.rangeKey ? { rangeKey: def.rangeKey } : {}),
          attributes: keys.map((k) => ({ name: k, type: "S" })),
          ...(def.ttlAttribute ? { ttl: { attributeName: def.ttlAttribute, enabled: true } } : {}),
          pointInTimeRecovery: { enabled: true },
          deletionProtectionEnabled: a.deletionProtection,
        },
        parent,
      );
    }
    this.tables = tables;

    if (a.bootstrapApiKey !== undefined) {
      new aws.dynamodb.TableItem(
        `${name}-bootstrap-key`,
        {
          tableName: tables.apiKeys.name,
          hashKey: TABLE_KEYS.apiKeys.hashKey,
          item: pulumi.secret(a.bootstrapApiKey).apply((key) => bootstrapKeyItem(key)),
        },
        parent,
      );
    }

    this.workerImage = new WorkerImage(`${name}-worker`, { image: a.workerImage, repositoryName: repositoryName(pool) }, parent);

    // Router: log group first (with retention) so Lambda does not create one that keeps logs forever.
    const routerLogs = new aws.cloudwatch.LogGroup(`${name}-router`, { name: routerLogGroupName(pool), retentionInDays: a.logRetentionDays }, parent);
    this.routerRole = new aws.iam.Role(`${name}-router`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")) }, parent);
    const routerRolePolicy = new aws.iam.RolePolicy(
      `${name}-router`,
      {
        role: this.routerRole.id,
        policy: pulumi
          .all([tables.threads.arn, tables.replicas.arn, tables.apiKeys.arn, tables.apiState.arn, routerLogs.arn])
          .apply(([threads, replicas, apiKeys, apiState, logGroupArn]) =>
            JSON.stringify(routerPolicy({ tables: { threads, replicas, apiKeys, apiState }, logGroupArn })),
          ),
      },
      parent,
    );
    const config = pulumi
      .output(a.endpoints)
      .apply((endpoints) =>
        JSON.stringify(routerConfig({ pool, tables: this.tableNames, endpoints, deadlineMs: a.deadlineMs, apiSettings: args.routerSettings })),
      );
    this.routerFunction = new aws.lambda.Function(
      `${name}-router`,
      {
        name: routerFunctionName(pool),
        description: `agentpool ${pool} router (runtime/router/lambda.ts, esbuild bundle)`,
        role: this.routerRole.arn,
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: ["arm64"],
        handler: ROUTER_HANDLER,
        code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleRouter()) }),
        timeout,
        memorySize: a.routerMemoryMb,
        environment: { variables: { [ROUTER_CONFIG_ENV]: config } },
        loggingConfig: { logFormat: "Text", logGroup: routerLogs.name },
      },
      { parent: this, dependsOn: [routerLogs, routerRolePolicy] },
    );

    // HTTP API: explicit v1 routes plus $default, all to the router (payload 2.0).
    this.api = new aws.apigatewayv2.Api(name, { name: `agentpool-${pool}`, protocolType: "HTTP", description: `agentpool ${pool} API` }, parent);
    const integration = new aws.apigatewayv2.Integration(
      `${name}-router`,
      {
        apiId: this.api.id,
        integrationType: "AWS_PROXY",
        integrationMethod: "POST",
        integrationUri: this.routerFunction.arn,
        payloadFormatVersion: "2.0",
        timeoutMilliseconds: API_GATEWAY_INTEGRATION_LIMIT_MS,
      },
      parent,
    );
    this.routes = ROUTE_KEYS.map(
      (routeKey) =>
        new aws.apigatewayv2.Route(
          `${name}-${routeSlug(routeKey)}`,
          { apiId: this.api.id, routeKey, target: pulumi.interpolate`integrations/${integration.id}` },
          parent,
        ),
    );
    const accessLogs = new aws.cloudwatch.LogGroup(`${name}-api-access`, { name: accessLogGroupName(pool), retentionInDays: a.logRetentionDays }, parent);
    this.stage = new aws.apigatewayv2.Stage(
      name,
      {
        apiId: this.api.id,
        name: "$default",
        autoDeploy: true,
        defaultRouteSettings: { throttlingBurstLimit: throttling.burstLimit, throttlingRateLimit: throttling.rateLimit },
        accessLogSettings: { destinationArn: accessLogs.arn, format: JSON.stringify(ACCESS_LOG_FORMAT) },
      },
      { parent: this, dependsOn: this.routes },
    );
    new aws.lambda.Permission(
      `${name}-router-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: this.routerFunction.name,
        principal: "apigateway.amazonaws.com",
        // Any stage and route of this API only.
        sourceArn: pulumi.interpolate`${this.api.executionArn}/*/*`,
      },
      parent,
    );
    this.apiUrl = this.api.apiEndpoint;

    this.registerOutputs({
      apiUrl: this.apiUrl,
      tableNames: this.tableNames,
      clusterArn: this.cluster.arn,
      routerFunctionArn: this.routerFunction.arn,
      workerImage: this.workerImage.imageRef,
    });
  }

  /** `https://…/api/v1/ask/{endpointSlug}` */
  askUrl(endpointSlug: string): pulumi.Output<string> {
    return pulumi.interpolate`${this.apiUrl}/api/v1/ask/${endpointSlug}`;
  }
}

/** `POST /api/v1/ask/{endpoint_slug}` → `post-api-v1-ask-endpoint-slug`; `$default` → `default`. */
export function routeSlug(routeKey: string): string {
  return routeKey
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** The keys-table item of the bootstrap key, shaped like runtime/aws/api-key-store.ts writes it. */
export function bootstrapKeyItem(key: string): string {
  if (!isWellFormedApiKey(key)) throw new Error("agentpoolAws:bootstrapApiKey must be cust_ followed by 16 to 128 letters, digits, _ or -");
  return JSON.stringify({
    key_hash: { S: hashApiKey(key) },
    prefix: { S: visiblePrefix(key) },
    name: { S: "bootstrap key (pulumi)" },
    owner: { S: "bootstrap" },
    created_at: { N: "0" },
  });
}
