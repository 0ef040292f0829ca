import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

/** JetStream said the stream does not exist (API error 10059), as opposed to any other failure. */
export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

/** JetStream said the consumer does not exist (API error 10014). */
export function isConsumerNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
}
