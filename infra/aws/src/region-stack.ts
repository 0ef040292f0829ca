import {
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_ecs as ecs,
  aws_iam as iam,
  aws_logs as logs,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CLUSTER_NAME, CONTAINER_NAME, REPOSITORY_NAME, TASK_FAMILY, executionRoleName } from './names.js';
import type { RegionSettings } from './settings.js';

export interface RegionStackProps extends StackProps {
  settings: RegionSettings;
}

/** The headers a blob's presigned PUT carries from a browser: the grant's signed ones, and the SDK's. */
export const DASHBOARD_UPLOAD_HEADERS = [
  'content-type',
  'cache-control',
  'if-none-match',
  'x-amz-checksum-sha256',
  'x-amz-sdk-checksum-algorithm',
] as const;

/**
 * One region of DeploySphere: the bucket its sites are served from, and everything a build needs
 * to run there as a Fargate task (docs/ecs-builds.md). The control plane's rights on it are in
 * ControlPlaneStack, which names these resources by their fixed names (names.ts).
 */
export class RegionStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly repository: ecr.Repository;
  readonly vpc: ec2.Vpc;
  readonly securityGroup: ec2.SecurityGroup;
  readonly cluster: ecs.Cluster;
  readonly logGroup: logs.LogGroup;
  readonly executionRole: iam.Role;
  readonly taskDefinition: ecs.CfnTaskDefinition;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    const s = props.settings;
    super(scope, id, {
      ...props,
      env: { account: s.account, region: s.region },
      description: `DeploySphere ${s.region}: site bucket and Fargate build tasks`,
    });

    this.bucket = this.siteBucket(s);
    this.repository = new ecr.Repository(this, 'WorkerImages', {
      repositoryName: REPOSITORY_NAME,
      // A task definition names an image by tag; immutable tags make that name mean one image
      // forever, so a revision always runs what it was deployed with.
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Old revisions stay runnable for a rollback: keep far more images than deploys in a week.
      lifecycleRules: [{ description: 'keep the newest 50 images', maxImageCount: 50 }],
    });
    this.vpc = this.buildVpc(s);
    this.securityGroup = this.buildSecurityGroup(s);
    this.cluster = new ecs.Cluster(this, 'Builds', {
      clusterName: CLUSTER_NAME,
      // Without a VPC, ecs.Cluster makes its own, with private subnets and NAT gateways.
      vpc: this.vpc,
      // The control plane asks for FARGATE_SPOT and falls back to FARGATE itself on a capacity failure.
      enableFargateCapacityProviders: true,
    });
    this.logGroup = new logs.LogGroup(this, 'WorkerLogs', {
      logGroupName: '/deploysphere/build-worker',
      retention: s.build.logRetentionDays as logs.RetentionDays,
      // The build's own log is in ClickHouse; these are the worker's stderr, kept for debugging.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.executionRole = this.buildExecutionRole(s);
    this.taskDefinition = this.buildTaskDefinition(s);
    this.outputs(s);
  }

  private siteBucket(s: RegionSettings): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Sites', {
      bucketName: s.bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Denies any request not made over TLS (aws:SecureTransport), and TLS older than 1.2.
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // No versioning: blobs are write-once by policy (below), and the garbage collector's
      // DeleteObject must free the space rather than leave a delete marker over it.
      versioned: false,
      // Live sites are served from here: deleting the stack must never delete them.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          // The build cache ignores caches older than BUILD_CACHE_EXPIRY_DAYS but never deletes
          // them (docs/build-cache.md); this does, counted from when each object was written.
          id: 'expire-build-cache',
          prefix: 'cache/',
          expiration: Duration.days(s.build.cacheExpirationDays),
        },
        {
          // CLI source deploys' archives (docs/cli.md): the control plane deletes each once its
          // deployment is final; this is the backstop for one it missed (a deleted project).
          id: 'expire-source-archives',
          prefix: 'sources/',
          expiration: Duration.days(7),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // The dashboard's folder drop PUTs blobs from the browser with presigned grants. CORS only
      // lets the dashboard's pages read the answers; the grant's signature is what authorizes.
      cors:
        s.dashboardOrigins.length > 0
          ? [
              {
                id: 'dashboard-folder-drop',
                allowedOrigins: s.dashboardOrigins,
                allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.HEAD],
                allowedHeaders: [...DASHBOARD_UPLOAD_HEADERS],
                exposedHeaders: ['ETag'],
                maxAge: 3600,
              },
            ]
          : undefined,
    });
    // A blob's key is the sha256 of its bytes, so a blob is never rewritten: every PutObject on
    // blobs/* must carry `If-None-Match: *`, so an existing blob cannot be replaced, not even by a
    // holder of a valid upload grant for its key. The condition key is absent exactly when the
    // header is. Multipart uploads cannot carry the header on their parts, so they are refused on
    // blobs/* too: blobs go up in one presigned PUT each (up to 5 GB; the edge serves 25 MiB).
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BlobsAreWriteOnce',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects('blobs/*')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    return bucket;
  }

  /**
   * Public subnets with an internet gateway and nothing else: no NAT, no private subnets, no
   * peering, no VPC endpoints, no VPN. On Fargate the task is the sandbox (bubblewrap cannot run
   * there), so a build's code has the task's network. In a VPC of its own whose only route leads
   * to the internet, nothing internal is routable from it: the build reaches the internet, as it
   * would through the local egress proxy, and nothing of ours but what is public anyway. A NAT
   * gateway would add cost (per hour and per GB) and no isolation; each task gets a public IP
   * instead (ECS_<REGION>_ASSIGN_PUBLIC_IP=ENABLED, the default), which accepts no connection
   * because the security group has no ingress rule.
   */
  private buildVpc(s: RegionSettings): ec2.Vpc {
    return new ec2.Vpc(this, 'BuildVpc', {
      ipAddresses: ec2.IpAddresses.cidr(s.vpcCidr),
      maxAzs: s.maxAzs,
      natGateways: 0,
      subnetConfiguration: [{ name: 'build', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }],
      // Builds never use the default security group; restricting it would add a Lambda-backed
      // custom resource to every region for nothing.
      restrictDefaultSecurityGroup: false,
    });
  }

  /**
   * No ingress at all: build tasks accept no connection, not even from each other. Egress only to
   * what a build and its worker need: HTTPS (registries, git hosts, S3, ECR, CloudWatch Logs, the
   * control plane's bootstrap exchange), HTTP (some registries and mirrors), SSH (git with deploy
   * keys) and NATS. DNS to the VPC's resolver is not subject to security groups.
   */
  private buildSecurityGroup(s: RegionSettings): ec2.SecurityGroup {
    const sg = new ec2.SecurityGroup(this, 'BuildTasks', {
      vpc: this.vpc,
      description: 'DeploySphere build tasks: no ingress; egress 443, 80, 22 and NATS only',
      allowAllOutbound: false,
    });
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP');
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22), 'git over SSH (deploy keys)');
    sg.addEgressRule(ec2.Peer.ipv4(s.nats.cidr), ec2.Port.tcp(s.nats.port), 'NATS (TLS)');
    return sg;
  }

  /**
   * What ECS itself needs to start a build task: pull the image and write the container's log.
   * Nothing else: the task has no role of its own, and this role's credentials never reach it.
   */
  private buildExecutionRole(s: RegionSettings): iam.Role {
    const role = new iam.Role(this, 'ExecutionRole', {
      roleName: executionRoleName(s.region),
      description: 'ECS pulls the DeploySphere build-worker image and writes its log; nothing else',
      // Only ECS, on behalf of this account in this region, may assume it (confused deputy).
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': s.account },
          ArnLike: { 'aws:SourceArn': `arn:aws:ecs:${s.region}:${s.account}:*` },
        },
      }),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EcrLogin',
        // GetAuthorizationToken has no resource: it is the registry login.
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PullWorkerImage',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [this.repository.repositoryArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteWorkerLog',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The group's ARN ends in `:*`, which covers its streams.
        resources: [this.logGroup.logGroupArn],
      }),
    );
    return role;
  }

  /**
   * Written as the L1 resource on purpose: ecs.FargateTaskDefinition always creates a task role,
   * and a task with a role serves its credentials to the build's code from the metadata endpoint.
   * This one has none (docs/ecs-builds.md): uploads go through presigned grants.
   */
  private buildTaskDefinition(s: RegionSettings): ecs.CfnTaskDefinition {
    const environment = Object.entries(staticEnvironment(s))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value }));
    const taskDefinition = new ecs.CfnTaskDefinition(this, 'Worker', {
      family: TASK_FAMILY,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: String(s.build.cpu),
      memory: String(s.build.memoryMiB),
      ephemeralStorage: { sizeInGiB: s.build.ephemeralStorageGiB },
      // FARGATE_SPOT runs X86_64 only; the image is built for linux/amd64 (docs/production.md).
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
      executionRoleArn: this.executionRole.roleArn,
      containerDefinitions: [
        {
          name: CONTAINER_NAME,
          image: `${this.repository.repositoryUri}:${s.build.imageTag}`,
          essential: true,
          environment,
          // An init process reaps the build commands' orphans and forwards StopTask's SIGTERM.
          linuxParameters: { initProcessEnabled: true },
          // Time between StopTask's SIGTERM and SIGKILL: the worker reports `cancelled` in it.
          stopTimeout: 30,
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': this.logGroup.logGroupName,
              'awslogs-region': s.region,
              'awslogs-stream-prefix': 'build',
            },
          },
        },
      ],
    });
    // A task must not start before its execution role may pull and log.
    taskDefinition.node.addDependency(this.executionRole);
    return taskDefinition;
  }

  /** What the control plane's settings need (docs/production.md); output keys are alphanumeric. */
  private outputs(s: RegionSettings): void {
    const prefix = `ECS_${s.region.toUpperCase().replace(/-/g, '_')}_`;
    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    out('ClusterArn', this.cluster.clusterArn, `${prefix}CLUSTER`);
    // The ARN is arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>.
    out(
      'TaskDefinition',
      Fn.select(1, Fn.split('/', this.taskDefinition.attrTaskDefinitionArn)),
      `${prefix}TASK_DEFINITION (family:revision)`,
    );
    out('TaskDefinitionArn', this.taskDefinition.attrTaskDefinitionArn, 'the pinned revision, as an ARN');
    out(
      'Subnets',
      Fn.join(
        ',',
        this.vpc.publicSubnets.map((subnet) => subnet.subnetId),
      ),
      `${prefix}SUBNETS`,
    );
    out('SecurityGroups', this.securityGroup.securityGroupId, `${prefix}SECURITY_GROUPS`);
    out('BucketName', this.bucket.bucketName, `S3_${prefix.slice(4)}BUCKET, and the edge's REGIONS[].bucket`);
    out('RepositoryUri', this.repository.repositoryUri, 'where the build-worker image is pushed');
    out('ExecutionRoleArn', this.executionRole.roleArn, 'the only role the control plane may pass');
    out('LogGroupName', this.logGroup.logGroupName, "the build workers' container logs");
  }
}

/**
 * The worker container's fixed environment: the control plane's URL (where the task exchanges
 * its bootstrap token for its spec) and the limits. Per-build values come from RunTask's
 * overrides, secrets from the bootstrap exchange; neither is here.
 */
export function staticEnvironment(s: RegionSettings): Record<string, string> {
  const env: Record<string, string> = { ...s.build.environment, CONTROL_PLANE_URL: s.controlPlaneUrl };
  for (const [name, value] of Object.entries(s.build.limits)) {
    if (value !== undefined) env[name] = String(value);
  }
  return env;
}
