import { AppError, DeploymentIdSchema, fromZodError, SlugSchema } from '@deploysphere/contracts';
import { z } from 'zod';

/** Validates a request part against its contract; failures are 400s that name the field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, rootField = 'body'): z.output<S> {
  const result = schema.safeParse(value ?? (rootField === 'body' ? undefined : {}));
  if (!result.success) throw fromZodError(result.error, 400, rootField);
  return result.data;
}

/** Path ids that cannot exist answer 404, not 400: to a client they are just unknown resources. */
function pathParam(schema: z.ZodType, value: string, what: string, field: string): string {
  if (!schema.safeParse(value).success) throw AppError.notFound(what, field);
  return value;
}

const SlugParams = z.object({ slug: z.string() });
const IdParams = z.object({ id: z.string() });

/** `:slug` of a project route. */
export function slugParam(params: unknown): string {
  const { slug } = parse(SlugParams, params, 'params');
  return pathParam(SlugSchema, slug, `Project ${slug}`, 'slug');
}

/** `:id` of a deployment route. */
export function deploymentIdParam(params: unknown): string {
  const { id } = parse(IdParams, params, 'params');
  return pathParam(DeploymentIdSchema, id, `Deployment ${id}`, 'id');
}
