/**
 * An ECS API error as awsJson1.1 carries it: `{__type, message}` with an HTTP status. The SDK
 * maps `__type` to its modelled exception class (ConflictException, ClientException, …), and
 * extra members (ConflictException's `resourceIds`) become properties of that exception.
 */
export class EcsApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = type;
  }

  toBody(): Record<string, unknown> {
    return { __type: this.type, message: this.message, ...this.extra };
  }
}

export const invalidParameter = (message: string): EcsApiError =>
  new EcsApiError('InvalidParameterException', message);

export const clientException = (message: string): EcsApiError => new EcsApiError('ClientException', message);

export const clusterNotFound = (): EcsApiError =>
  new EcsApiError('ClusterNotFoundException', 'Cluster not found.');

/** A caught value as an Error's message, for reasons shown to API clients. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
