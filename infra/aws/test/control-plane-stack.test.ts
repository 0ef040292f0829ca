import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_NAME, CONTROL_PLANE_ROLE_NAME, EDGE_READER_USER_NAME, TASK_FAMILY } from '../src/names.js';
import {
  actionsOf,
  buildInfra,
  policyStatements,
  resourcesOf,
  settingsWith,
  type InfraStacksForTest,
  type Statement,
} from './helpers.js';

const settings = settingsWith({
  controlPlane: {
    region: 'eu-west-1',
    principalArn: 'arn:aws:iam::222222222222:role/control-plane-host',
    url: 'https://control.example.com',
  },
  regions: [{ id: 'us-east-1' }, { id: 'ap-southeast-1', bucketName: 'sites-ap-southeast-1' }],
});

let stacks: InfraStacksForTest;
let t: Template;
let statements: Statement[];
const bySid = (sid: string) => {
  const found = statements.filter((s) => s.Sid === sid);
  expect(found, sid).toHaveLength(1);
  return found[0]!;
};

beforeAll(() => {
  stacks = buildInfra(settings);
  t = Template.fromStack(stacks.controlPlane);
  const role = Object.entries(resourcesOf(t, 'AWS::IAM::Policy')).filter(
    ([, p]) => (p.Properties!.Roles as unknown[] | undefined)?.length,
  );
  expect(role).toHaveLength(1);
  statements = (role[0]![1].Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
});

const CLUSTERS = [
  `arn:aws:ecs:us-east-1:111111111111:cluster/${CLUSTER_NAME}`,
  `arn:aws:ecs:ap-southeast-1:111111111111:cluster/${CLUSTER_NAME}`,
];
const TASKS = [
  `arn:aws:ecs:us-east-1:111111111111:task/${CLUSTER_NAME}/*`,
  `arn:aws:ecs:ap-southeast-1:111111111111:task/${CLUSTER_NAME}/*`,
];

describe("the control plane's role", () => {
  it('lives in the control plane region and is assumable only by the configured principal', () => {
    expect(stacks.controlPlane.region).toBe('eu-west-1');
    t.resourceCountIs('AWS::IAM::Role', 1);
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: CONTROL_PLANE_ROLE_NAME,
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { AWS: 'arn:aws:iam::222222222222:role/control-plane-host' },
          },
        ],
      },
    });
  });

  it('has exactly these actions, all allowed, none a wildcard', () => {
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'ecs:DescribeTasks',
      'ecs:ListTasks',
      'ecs:RunTask',
      'ecs:StopTask',
      'ecs:TagResource',
      'iam:PassRole',
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
    t.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    t.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.absent(),
      Policies: Match.absent(),
    });
  });

  it('may run only the worker family, only in the build cluster', () => {
    expect(bySid('RunBuildTasks')).toEqual({
      Sid: 'RunBuildTasks',
      Effect: 'Allow',
      Action: 'ecs:RunTask',
      Resource: [
        `arn:aws:ecs:us-east-1:111111111111:task-definition/${TASK_FAMILY}:*`,
        `arn:aws:ecs:ap-southeast-1:111111111111:task-definition/${TASK_FAMILY}:*`,
      ],
      Condition: { ArnEquals: { 'ecs:cluster': CLUSTERS } },
    });
  });

  it('may tag tasks only while RunTask creates them', () => {
    expect(bySid('TagBuildTasksAtLaunch')).toMatchObject({
      Resource: TASKS,
      Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    });
  });

  it("may stop, describe and list only the build cluster's tasks", () => {
    expect(bySid('FollowBuildTasks')).toEqual({
      Sid: 'FollowBuildTasks',
      Effect: 'Allow',
      Action: ['ecs:StopTask', 'ecs:DescribeTasks'],
      Resource: TASKS,
      Condition: { ArnEquals: { 'ecs:cluster': CLUSTERS } },
    });
    expect(bySid('ListBuildTasks')).toEqual({
      Sid: 'ListBuildTasks',
      Effect: 'Allow',
      Action: 'ecs:ListTasks',
      Resource: '*',
      Condition: { ArnEquals: { 'ecs:cluster': CLUSTERS } },
    });
    // ListTasks is the only grant without a resource of its own, and its condition limits it.
    for (const s of statements) if (s.Resource === '*') expect(s.Sid).toBe('ListBuildTasks');
  });

  it('may pass only the execution roles, and only to ECS tasks', () => {
    expect(bySid('PassExecutionRole')).toEqual({
      Sid: 'PassExecutionRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: [
        'arn:aws:iam::111111111111:role/deploysphere-build-exec-us-east-1',
        'arn:aws:iam::111111111111:role/deploysphere-build-exec-ap-southeast-1',
      ],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
  });

  it('may presign object reads, writes and deletes, and list, on the site buckets only', () => {
    expect(bySid('PresignSiteObjects')).toEqual({
      Sid: 'PresignSiteObjects',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: ['arn:aws:s3:::deploysphere-111111111111-us-east-1/*', 'arn:aws:s3:::sites-ap-southeast-1/*'],
    });
    expect(bySid('ListSiteBuckets')).toEqual({
      Sid: 'ListSiteBuckets',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: ['arn:aws:s3:::deploysphere-111111111111-us-east-1', 'arn:aws:s3:::sites-ap-southeast-1'],
    });
  });

  it('names the resources the region stacks actually create', () => {
    for (const region of stacks.regions) {
      const r = Template.fromStack(region);
      const name = (type: string, key: string) =>
        Object.values(resourcesOf(r, type)).map((res) => res.Properties![key]);
      expect(name('AWS::ECS::Cluster', 'ClusterName')).toEqual([CLUSTER_NAME]);
      expect(name('AWS::ECS::TaskDefinition', 'Family')).toEqual([TASK_FAMILY]);
      const roleName = name('AWS::IAM::Role', 'RoleName')[0] as string;
      expect(bySid('PassExecutionRole').Resource).toContain(`arn:aws:iam::111111111111:role/${roleName}`);
      const bucket = name('AWS::S3::Bucket', 'BucketName')[0] as string;
      expect(bySid('ListSiteBuckets').Resource).toContain(`arn:aws:s3:::${bucket}`);
    }
  });

  it('is an output', () => {
    t.hasOutput('ControlPlaneRoleArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ControlPlaneRole'), 'Arn'] },
    });
  });
});

describe("the edge's reader", () => {
  it('may only read blobs and manifests', () => {
    t.resourceCountIs('AWS::IAM::User', 1);
    t.hasResourceProperties('AWS::IAM::User', { UserName: EDGE_READER_USER_NAME });
    // No access key in the template: its secret would be readable in the stack.
    t.resourceCountIs('AWS::IAM::AccessKey', 0);
    const edge = policyStatements(t).filter((s) => s.Sid === 'ReadDeployedSites');
    expect(edge).toEqual([
      {
        Sid: 'ReadDeployedSites',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [
          'arn:aws:s3:::deploysphere-111111111111-us-east-1/blobs/*',
          'arn:aws:s3:::deploysphere-111111111111-us-east-1/deployments/*',
          'arn:aws:s3:::sites-ap-southeast-1/blobs/*',
          'arn:aws:s3:::sites-ap-southeast-1/deployments/*',
        ],
      },
    ]);
  });
});
