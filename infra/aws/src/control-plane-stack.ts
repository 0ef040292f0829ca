import { CfnOutput, Stack, type StackProps, aws_iam as iam } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  CONTROL_PLANE_ROLE_NAME,
  EDGE_READER_USER_NAME,
  bucketArn,
  clusterArn,
  clusterTasksArn,
  executionRoleArn,
  taskFamilyArn,
} from './names.js';
import type { InfraSettings } from './settings.js';

export interface ControlPlaneStackProps extends StackProps {
  settings: InfraSettings;
}

/**
 * The identities that reach into every region: the control plane's role and the edge's reader.
 *
 * The control plane runs with one AWS identity for every region (the SDK's default chain, or
 * ECS_ACCESS_KEY_ID), so it gets one role whose rights span the regions' resources, rather than
 * one role per region that it could not choose between. IAM is global; this stack lives in the
 * control plane's region and names each region's resources by their fixed names (names.ts), so it
 * imports nothing from the region stacks and can be deployed before or after them.
 */
export class ControlPlaneStack extends Stack {
  readonly role: iam.Role;
  readonly edgeReader: iam.User;

  constructor(scope: Construct, id: string, props: ControlPlaneStackProps) {
    const s = props.settings;
    super(scope, id, {
      ...props,
      env: { account: s.account, region: s.controlPlane.region },
      description: "DeploySphere: the control plane's role and the edge's S3 reader",
    });
    const regions = s.regions;
    const clusters = regions.map(clusterArn);
    const tasks = regions.map(clusterTasksArn);
    const buckets = regions.map(bucketArn);

    this.role = new iam.Role(this, 'ControlPlaneRole', {
      roleName: CONTROL_PLANE_ROLE_NAME,
      description: 'DeploySphere control plane: runs build tasks and presigns uploads, nothing more',
      assumedBy: new iam.ArnPrincipal(s.controlPlane.principalArn),
    });
    const grant = (statement: iam.PolicyStatementProps) =>
      this.role.addToPolicy(new iam.PolicyStatement(statement));

    grant({
      sid: 'RunBuildTasks',
      // Any revision of the worker's family, and only in the build cluster.
      actions: ['ecs:RunTask'],
      resources: regions.map(taskFamilyArn),
      conditions: { ArnEquals: { 'ecs:cluster': clusters } },
    });
    grant({
      sid: 'TagBuildTasksAtLaunch',
      // RunTask with tags is authorised for ecs:TagResource too; only as part of RunTask here.
      actions: ['ecs:TagResource'],
      resources: tasks,
      conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    });
    grant({
      sid: 'FollowBuildTasks',
      actions: ['ecs:StopTask', 'ecs:DescribeTasks'],
      resources: tasks,
      conditions: { ArnEquals: { 'ecs:cluster': clusters } },
    });
    grant({
      sid: 'ListBuildTasks',
      // ListTasks names no task; the cluster condition is what limits it.
      actions: ['ecs:ListTasks'],
      resources: ['*'],
      conditions: { ArnEquals: { 'ecs:cluster': clusters } },
    });
    grant({
      sid: 'PassExecutionRole',
      // RunTask passes the task definition's execution role; there is no task role to pass.
      actions: ['iam:PassRole'],
      resources: regions.map(executionRoleArn),
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
    grant({
      sid: 'PresignSiteObjects',
      // A presigned URL carries its signer's rights: PUT for upload grants, GET for the
      // presence check and the cache, DELETE for garbage collection.
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: buckets.map((b) => `${b}/*`),
    });
    grant({
      sid: 'ListSiteBuckets',
      actions: ['s3:ListBucket'],
      resources: buckets,
    });

    this.edgeReader = new iam.User(this, 'EdgeReader', { userName: EDGE_READER_USER_NAME });
    this.edgeReader.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDeployedSites',
        // The edge reads manifests and blobs by key and nothing else: not the build cache.
        actions: ['s3:GetObject'],
        resources: buckets.flatMap((b) => [`${b}/blobs/*`, `${b}/deployments/*`]),
      }),
    );

    new CfnOutput(this, 'ControlPlaneRoleArn', {
      value: this.role.roleArn,
      description: 'the role the control plane assumes: role_arn in its AWS profile (docs/production.md)',
    });
    new CfnOutput(this, 'EdgeReaderUserName', {
      value: this.edgeReader.userName,
      description: "create its access key for the edge's S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY",
    });
  }
}
