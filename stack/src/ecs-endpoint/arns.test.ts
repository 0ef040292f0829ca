import { describe, expect, it } from 'vitest';
import { clusterName, newTaskId, parseTaskDefinitionRef, parseTaskRef, taskArn } from './arns.js';

const scope = { region: 'ap-southeast-1', accountId: '000000000000' };

describe('ECS ARNs', () => {
  it('reads tasks by ARN, old-style ARN and id', () => {
    const id = newTaskId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(parseTaskRef(scope, taskArn(scope, 'c', id))).toEqual({ cluster: 'c', id });
    expect(parseTaskRef(scope, `arn:aws:ecs:ap-southeast-1:000000000000:task/${id}`)).toEqual({ id });
    expect(parseTaskRef(scope, id)).toEqual({ id });
    // Another region's or account's ARN is an unknown task, not ours.
    expect(parseTaskRef(scope, `arn:aws:ecs:eu-west-1:000000000000:task/c/${id}`)).toBeUndefined();
  });

  it('reads task definitions as family, family:revision or ARN', () => {
    expect(parseTaskDefinitionRef(scope, 'build')).toEqual({ family: 'build' });
    expect(parseTaskDefinitionRef(scope, 'build:12')).toEqual({ family: 'build', revision: 12 });
    expect(
      parseTaskDefinitionRef(scope, 'arn:aws:ecs:ap-southeast-1:000000000000:task-definition/build:3'),
    ).toEqual({ family: 'build', revision: 3 });
    expect(parseTaskDefinitionRef(scope, 'build:0')).toBeUndefined();
    expect(parseTaskDefinitionRef(scope, 'bad name')).toBeUndefined();
  });

  it('reads clusters by name or ARN', () => {
    expect(clusterName(scope, 'builds')).toBe('builds');
    expect(clusterName(scope, 'arn:aws:ecs:ap-southeast-1:000000000000:cluster/builds')).toBe('builds');
    expect(clusterName(scope, 'arn:aws:ecs:us-east-1:000000000000:cluster/builds')).toBeUndefined();
  });
});
