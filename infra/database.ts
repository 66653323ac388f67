/**
 * How the functions reach Postgres.
 * - PARTKEEPER_DATABASE=secret (default): DATABASE_URL is the `DatabaseUrl` secret
 *   (`npx sst secret set DatabaseUrl 'postgres://...' --stage production`).
 * - PARTKEEPER_DATABASE=postgres: this app creates an sst.aws.Postgres in its own VPC.
 * Functions join a VPC with PARTKEEPER_VPC=existing|create. Inside a VPC the only AWS API they call
 * is S3, reached through a free S3 gateway endpoint (no NAT gateway needed).
 */
import { postgresUrl } from "./lib/deploy-config.ts";
import { settings } from "./settings.ts";

const region = aws.getRegionOutput().region;

function s3GatewayEndpoint(vpcId: $util.Input<string>, routeTableIds: $util.Input<$util.Input<string>[]>) {
  return new aws.ec2.VpcEndpoint("S3GatewayEndpoint", {
    vpcId,
    serviceName: $interpolate`com.amazonaws.${region}.s3`,
    vpcEndpointType: "Gateway",
    routeTableIds,
  });
}

const createdVpc = settings.vpc.mode === "create" ? new sst.aws.Vpc("Vpc", { az: 2 }) : undefined;
if (createdVpc) {
  s3GatewayEndpoint(
    createdVpc.id,
    createdVpc.nodes.privateRouteTables.apply((tables) => tables.map((t) => t.id)),
  );
}
if (settings.vpc.mode === "existing" && settings.vpc.routeTableIds.length > 0 && settings.vpc.vpcId !== null) {
  s3GatewayEndpoint(settings.vpc.vpcId, [...settings.vpc.routeTableIds]);
}

/** The `vpc` argument of every job function, or undefined outside a VPC. */
export const functionVpc =
  createdVpc ??
  (settings.vpc.mode === "existing"
    ? { privateSubnets: [...settings.vpc.subnetIds], securityGroups: [...settings.vpc.securityGroupIds] }
    : undefined);

const postgres = settings.database === "postgres" && createdVpc ? new sst.aws.Postgres("Database", { vpc: createdVpc }) : undefined;

/** DATABASE_URL of every job function. */
export const databaseUrl: $util.Output<string> = postgres
  ? $util
      .all([postgres.username, postgres.password, postgres.host, postgres.port, postgres.database])
      .apply(([username, password, host, port, database]) => postgresUrl({ username, password, host, port, database }))
  : new sst.Secret("DatabaseUrl").value;
