import { ErrorBodySchema, RegionSchema, type Region } from '@deploysphere/contracts';
import { z } from 'zod';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The API's own message on failure, so the dashboard shows what the server said. */
async function request<T>(token: string, path: string, schema: z.ZodType<T>): Promise<T> {
  const res = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const parsed = ErrorBodySchema.safeParse(body);
    throw new ApiError(
      res.status,
      parsed.success ? parsed.data.error.message : `Request failed (${res.status})`,
    );
  }
  return schema.parse(body);
}

export const api = {
  regions: (token: string): Promise<Region[]> => request(token, '/regions', z.array(RegionSchema)),
};
