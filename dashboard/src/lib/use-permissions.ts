import { useQuery } from '@tanstack/react-query';
import { meQuery } from '../api/queries.js';
import { permissionsOf, type Permissions } from './permissions.js';

/** The signed-in caller's permissions, from `GET /me` (shared, cached). */
export function usePermissions(): Permissions {
  const me = useQuery(meQuery());
  return permissionsOf(me.data);
}
