import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_NAME, CONTAINER_NAME, TASK_FAMILY, executionRoleName } from '../src/names.js';
import {
  actionsOf,
  buildInfra,
  committedSettingsJson,
  policyStatements,
  resourcesOf,
  settingsWith,
  type Statement,
} from './helpers.js';

/** Settings that differ from every default, so each value is seen to come from them. */
const custom = settingsWith({
  nats: { port: 4333, cidr: '203.0.113.10/32' },
  build: {
    ...(committedSettingsJson().build as object),
    cpu: 4096,
    memoryMiB: 16384,
    ephemeralStorageGiB: 100,
    imageTag: '2026.12.1',
    logRetentionDays: 90,
    cacheExpirationDays: 21,
    limits: { BUILD_TIMEOUT_MS: 1_200_000, MAX_OUTPUT_FILES: 40_000 },
  },
  regions: [{ id: 'ap-southeast-1', bucketName: 'sites-ap-southeast-1' }, { id: 'eu-west-1' }],
});

let t: Template;

beforeAll(() => {
  const stacks = buildInfra(custom);
  t = Template.fromStack(stacks.regions[0]!);
});

describe('the site bucket', () => {
  it('blocks public access and has the configured name', () => {
    t.resourceCountIs('AWS::S3::Bucket', 1);
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'sites-ap-southeast-1',
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it('outlives its stack', () => {
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  const bucketStatements = () => {
    const policies = Object.values(resourcesOf(t, 'AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(1);
    return (policies[0]!.Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
  };

  it('refuses every request not made over TLS', () => {
    const tls = bucketStatements().filter((s) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    expect(tls).toHaveLength(1);
    expect(tls[0]).toMatchObject({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' } });
  });

  it('refuses a PutObject on blobs/* without If-None-Match, from anyone', () => {
    const blobs = bucketStatements().filter((s) => s.Sid === 'BlobsAreWriteOnce');
    expect(blobs).toHaveLength(1);
    expect(blobs[0]).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      // The key is absent exactly when the request has no If-None-Match header.
      Condition: { Null: { 's3:if-none-match': 'true' } },
    });
    expect(blobs[0]!.Resource).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Sites/), 'Arn'] }, '/blobs/*']],
    });
  });

  it('grants nothing: every statement of its policy is a Deny', () => {
    expect(bucketStatements().every((s) => s.Effect === 'Deny')).toBe(true);
  });

  it('expires the build cache after the configured days, source archives after a week, and nothing else', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectEquals({
            Id: 'expire-build-cache',
            Prefix: 'cache/',
            ExpirationInDays: 21,
            Status: 'Enabled',
          }),
        ]),
      },
    });
    const bucket = Object.values(resourcesOf(t, 'AWS::S3::Bucket'))[0]!;
    const rules = (bucket.Properties!.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    // Only cache/ and CLI source archives (sources/, a week: the control plane deletes each once
    // its deployment is final) expire: blobs and manifests are deleted by the control plane's GC.
    expect(rules.filter((r) => 'ExpirationInDays' in r).map((r) => [r.Prefix, r.ExpirationInDays])).toEqual([
      ['cache/', 21],
      ['sources/', 7],
    ]);
  });
});

describe('the ECR repository', () => {
  it('has immutable tags and scans on push', () => {
    t.resourceCountIs('AWS::ECR::Repository', 1);
    t.hasResourceProperties('AWS::ECR::Repository', {
      ImageTagMutability: 'IMMUTABLE',
      ImageScanningConfiguration: { ScanOnPush: true },
    });
  });
});

describe('the ECS cluster', () => {
  it('has the FARGATE and FARGATE_SPOT capacity providers', () => {
    t.resourceCountIs('AWS::ECS::Cluster', 1);
    t.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: CLUSTER_NAME });
    t.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayEquals(['FARGATE', 'FARGATE_SPOT']),
    });
  });
});

describe('the task definition', () => {
  it('is a Fargate task with the configured CPU, memory and ephemeral storage', () => {
    t.resourceCountIs('AWS::ECS::TaskDefinition', 1);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: TASK_FAMILY,
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '4096',
      Memory: '16384',
      EphemeralStorage: { SizeInGiB: 100 },
    });
  });

  it('has no task role, so the metadata endpoint serves the build no credentials', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      TaskRoleArn: Match.absent(),
      ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExecutionRole'), 'Arn'] },
    });
    // The execution role is the only role in the region: nothing could serve as a task role.
    t.resourceCountIs('AWS::IAM::Role', 1);
  });

  it('runs the worker image by its tag and logs to a group with the configured retention', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Name: CONTAINER_NAME,
          Essential: true,
          Image: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':2026\\.12\\.1$')])] },
          LogConfiguration: {
            LogDriver: 'awslogs',
            Options: Match.objectLike({ 'awslogs-group': { Ref: Match.stringLikeRegexp('^WorkerLogs') } }),
          },
        }),
      ],
    });
    t.resourceCountIs('AWS::Logs::LogGroup', 1);
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it("holds the control plane's URL and the limits in its environment, and no secret", () => {
    const td = Object.values(resourcesOf(t, 'AWS::ECS::TaskDefinition'))[0]!;
    const [container] = td.Properties!.ContainerDefinitions as {
      Environment: { Name: string; Value: string }[];
      Secrets?: unknown;
    }[];
    expect(Object.fromEntries(container!.Environment.map((e) => [e.Name, e.Value]))).toEqual({
      CONTROL_PLANE_URL: 'https://control.example.com',
      BUILD_TIMEOUT_MS: '1200000',
      MAX_OUTPUT_FILES: '40000',
    });
    expect(container!.Secrets).toBeUndefined();
  });

  it('has an execution role that may pull the image and write the log, and nothing else', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: executionRoleName('ap-southeast-1'),
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }),
        ],
      },
      ManagedPolicyArns: Match.absent(),
    });
    const statements = policyStatements(t);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetAuthorizationToken',
      'ecr:GetDownloadUrlForLayer',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    // Only the registry login has no resource of its own.
    for (const s of statements) {
      if (s.Resource === '*') expect(actionsOf(s)).toEqual(['ecr:GetAuthorizationToken']);
    }
  });
});

describe('the build network', () => {
  it('is one VPC of public subnets behind an internet gateway, with no way into anything internal', () => {
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::EC2::InternetGateway', 1);
    for (const type of [
      'AWS::EC2::NatGateway',
      'AWS::EC2::VPCPeeringConnection',
      'AWS::EC2::VPCEndpoint',
      'AWS::EC2::VPNGateway',
      'AWS::EC2::TransitGatewayAttachment',
      'AWS::EC2::TransitGatewayVpcAttachment',
      'AWS::EC2::EgressOnlyInternetGateway',
    ]) {
      t.resourceCountIs(type, 0);
    }
    const subnets = Object.values(resourcesOf(t, 'AWS::EC2::Subnet'));
    expect(subnets.length).toBe(2);
    for (const s of subnets) expect(s.Properties!.MapPublicIpOnLaunch).toBe(true);
    // Every route is the default route to the internet gateway.
    const routes = Object.values(resourcesOf(t, 'AWS::EC2::Route'));
    expect(routes.length).toBe(subnets.length);
    for (const r of routes) {
      expect(r.Properties).toEqual({
        DestinationCidrBlock: '0.0.0.0/0',
        GatewayId: { Ref: expect.stringMatching(/IGW/) },
        RouteTableId: expect.anything(),
      });
    }
  });

  it('has a security group with no ingress and egress only to 443, 80, 22 and NATS', () => {
    t.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    t.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    const sg = Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroup'))[0]!;
    expect(sg.Properties!.SecurityGroupIngress).toBeUndefined();
    const egress = sg.Properties!.SecurityGroupEgress as Record<string, unknown>[];
    expect(
      egress.map(({ CidrIp, IpProtocol, FromPort, ToPort }) => ({ CidrIp, IpProtocol, FromPort, ToPort })),
    ).toEqual([
      { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 },
      { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 80, ToPort: 80 },
      { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 22, ToPort: 22 },
      { CidrIp: '203.0.113.10/32', IpProtocol: 'tcp', FromPort: 4333, ToPort: 4333 },
    ]);
  });
});

describe('the outputs', () => {
  it('are exactly what the control plane and the operator need', () => {
    expect(Object.keys(t.findOutputs('*')).sort()).toEqual([
      'BucketName',
      'ClusterArn',
      'ExecutionRoleArn',
      'LogGroupName',
      'RepositoryUri',
      'SecurityGroups',
      'Subnets',
      'TaskDefinition',
      'TaskDefinitionArn',
    ]);
    t.hasOutput('TaskDefinition', {
      Value: { 'Fn::Select': [1, { 'Fn::Split': ['/', { 'Fn::GetAtt': ['Worker', 'TaskDefinitionArn'] }] }] },
      Description: Match.stringLikeRegexp('^ECS_AP_SOUTHEAST_1_TASK_DEFINITION'),
    });
    t.hasOutput('Subnets', { Value: { 'Fn::Join': [',', Match.anyValue()] } });
    t.hasOutput('BucketName', { Description: Match.stringLikeRegexp('^S3_AP_SOUTHEAST_1_BUCKET') });
  });
});

describe('every committed region', () => {
  it('gets a stack in its own region and account, with a bucket named after both', () => {
    const { regions } = buildInfra();
    expect(regions.map((s) => s.region)).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1']);
    for (const stack of regions) {
      expect(stack.account).toBe('111111111111');
      Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
        BucketName: `deploysphere-111111111111-${stack.region}`,
      });
    }
  });
});
