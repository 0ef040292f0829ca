import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { EcsEndpoint } from '@deploysphere/stack';
import { LOCAL_ECS_CREDENTIALS } from '../src/local/local-ecs.js';

/** A task's lastStatus, as a client of the local ECS endpoint sees it through the real SDK. */
export async function taskStatus(endpoint: EcsEndpoint, taskArn: string): Promise<string | undefined> {
  const client = new ECSClient({
    region: endpoint.region,
    endpoint: endpoint.url,
    credentials: LOCAL_ECS_CREDENTIALS,
  });
  try {
    const res = await client.send(
      new DescribeTasksCommand({ cluster: 'deploysphere-builds', tasks: [taskArn] }),
    );
    return res.tasks?.[0]?.lastStatus;
  } finally {
    client.destroy();
  }
}

/** Waits until the task reports `status`; fails with the status it is still in. */
export async function waitForTaskStatus(
  endpoint: EcsEndpoint,
  taskArn: string,
  status: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await taskStatus(endpoint, taskArn);
    if (now === status) return;
    if (Date.now() > deadline) throw new Error(`task ${taskArn} is still ${now}, not ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
