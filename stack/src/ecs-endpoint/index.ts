export { startEcsEndpoint } from './endpoint.js';
export { CAPACITY_UNAVAILABLE_REASON, MAX_OVERRIDES_BYTES } from './run-task.js';
export { DEFAULT_STOP_REASON, ESSENTIAL_CONTAINER_EXITED_REASON, SPOT_INTERRUPTION_REASON } from './task.js';
export type {
  EcsEndpoint,
  EcsEndpointOptions,
  EcsFaults,
  EcsTaskDefinitionInput,
  RecordedEcsRequest,
} from './types.js';
