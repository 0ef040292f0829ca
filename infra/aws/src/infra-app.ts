import { Tags, type App } from 'aws-cdk-lib';
import { ControlPlaneStack } from './control-plane-stack.js';
import { CONTROL_PLANE_STACK_NAME, regionStackName } from './names.js';
import { RegionStack } from './region-stack.js';
import type { InfraSettings } from './settings.js';

export interface InfraStacks {
  regions: RegionStack[];
  controlPlane: ControlPlaneStack;
}

/** Every stack of the AWS side: one per region, and the control plane's identities. */
export function defineInfra(app: App, settings: InfraSettings): InfraStacks {
  Tags.of(app).add('deploysphere:managed-by', 'infra/aws');
  const regions = settings.regions.map(
    (r) =>
      new RegionStack(app, regionStackName(r.region), { settings: r, stackName: regionStackName(r.region) }),
  );
  const controlPlane = new ControlPlaneStack(app, CONTROL_PLANE_STACK_NAME, {
    settings,
    stackName: CONTROL_PLANE_STACK_NAME,
  });
  return { regions, controlPlane };
}
