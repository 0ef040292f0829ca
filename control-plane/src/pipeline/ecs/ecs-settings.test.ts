import { DEFAULT_REGIONS } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { ecsSettingsEnv, readEcsEnv, type EcsRegionSettings } from './ecs-settings.js';

const apse1 = DEFAULT_REGIONS.filter((r) => r.id === 'ap-southeast-1');

const settings: EcsRegionSettings = {
  region: 'ap-southeast-1',
  cluster: 'deploysphere-builds',
  taskDefinition: 'deploysphere-build-worker:7',
  containerName: 'build-worker',
  subnets: ['subnet-0a1b', 'subnet-2c3d'],
  securityGroups: ['sg-0123'],
  assignPublicIp: 'ENABLED',
  endpoint: 'http://127.0.0.1:4599',
};

describe('ECS settings per region', () => {
  it('reads back what ecsSettingsEnv writes', () => {
    expect(readEcsEnv(ecsSettingsEnv(settings), apse1)).toEqual({ ecs: [settings], problems: [] });
  });

  it('names every missing variable for every region', () => {
    const { problems } = readEcsEnv({}, DEFAULT_REGIONS);
    const variables = problems.map((p) => p.variable);
    for (const r of ['US_EAST_1', 'EU_WEST_1', 'AP_SOUTHEAST_1']) {
      for (const v of ['CLUSTER', 'TASK_DEFINITION', 'SUBNETS', 'SECURITY_GROUPS']) {
        expect(variables).toContain(`ECS_${r}_${v}`);
      }
    }
  });

  it('refuses an unpinned task definition and malformed ids, naming the variable', () => {
    const env = {
      ...ecsSettingsEnv(settings),
      ECS_AP_SOUTHEAST_1_TASK_DEFINITION: 'deploysphere-build-worker',
      ECS_AP_SOUTHEAST_1_SUBNETS: 'subnet-1,10.0.0.0/24',
      ECS_AP_SOUTHEAST_1_SECURITY_GROUPS: 'default',
      ECS_AP_SOUTHEAST_1_ASSIGN_PUBLIC_IP: 'yes',
    };
    const { problems } = readEcsEnv(env, apse1);
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'ECS_AP_SOUTHEAST_1_ASSIGN_PUBLIC_IP',
      'ECS_AP_SOUTHEAST_1_SECURITY_GROUPS',
      'ECS_AP_SOUTHEAST_1_SUBNETS',
      'ECS_AP_SOUTHEAST_1_TASK_DEFINITION',
    ]);
    // Values are never echoed.
    expect(JSON.stringify(problems)).not.toContain('10.0.0.0/24');
  });

  it('accepts a task definition ARN with its revision', () => {
    const env = {
      ...ecsSettingsEnv(settings),
      ECS_AP_SOUTHEAST_1_TASK_DEFINITION:
        'arn:aws:ecs:ap-southeast-1:111111111111:task-definition/deploysphere-build-worker:12',
    };
    expect(readEcsEnv(env, apse1).problems).toEqual([]);
  });
});
