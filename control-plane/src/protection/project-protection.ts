import {
  AppError,
  type ProtectionMode,
  type ProtectionSettings,
  type ProtectionSettingsInput,
} from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import { hashPassword } from '../accounts/password-hash.js';
import type { HostProtection, ProtectionLookup } from '../hosts/route-writer.js';

/** The project columns protection lives in. */
export interface ProtectionColumns {
  protectionMode: string;
  protectionProduction: boolean;
  protectionPasswordHash: string | null;
  protectionEpoch: number;
}

export function toProtectionSettings(p: ProtectionColumns): ProtectionSettings {
  return {
    mode: p.protectionMode as ProtectionMode,
    production: p.protectionProduction,
    passwordSet: p.protectionPasswordHash !== null,
  };
}

/** What route records carry for a project with these settings. */
export function hostProtection(p: ProtectionColumns): HostProtection {
  if (p.protectionMode === 'none') return {};
  const stamp = { epoch: p.protectionEpoch };
  return { previews: stamp, ...(p.protectionProduction ? { production: stamp } : {}) };
}

/** The RouteWriter's lookup: a project's protection as it is now; an unknown slug is public. */
export function protectionLookup(db: Db): ProtectionLookup {
  return async (slug) => {
    const p = await db.project.findUnique({
      where: { slug },
      select: {
        protectionMode: true,
        protectionProduction: true,
        protectionPasswordHash: true,
        protectionEpoch: true,
      },
    });
    return p ? hostProtection(p) : {};
  };
}

/**
 * The columns a create or update writes for `input`, checked against what the project has now
 * (`current`, null on create). Every refusal names its field. Any change moves the epoch on, so
 * cookies issued under the old settings stop working at the edge.
 */
export async function protectionData(
  input: ProtectionSettingsInput | undefined,
  current: ProtectionColumns | null,
  signingKeySet: boolean,
): Promise<Partial<Omit<ProtectionColumns, 'protectionEpoch'>> & { protectionEpoch?: number }> {
  if (!input) return {};
  const mode = input.mode ?? (current?.protectionMode as ProtectionMode | undefined) ?? 'none';
  if (mode !== 'none' && !signingKeySet) {
    throw AppError.badRequest(
      'protection.mode: this platform has no PROTECTION_SIGNING_KEY, so its edge cannot check protected hosts',
      'protection.mode',
    );
  }
  if (mode === 'password' && input.password === undefined && !current?.protectionPasswordHash) {
    throw AppError.badRequest(
      'protection.password: required to turn on password protection',
      'protection.password',
    );
  }
  return {
    ...(input.mode !== undefined ? { protectionMode: input.mode } : {}),
    ...(input.production !== undefined ? { protectionProduction: input.production } : {}),
    ...(input.password !== undefined ? { protectionPasswordHash: await hashPassword(input.password) } : {}),
    protectionEpoch: (current?.protectionEpoch ?? -1) + 1,
  };
}
