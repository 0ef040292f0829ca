import type { Region } from '@deploysphere/contracts';
import type { UseQueryResult } from '@tanstack/react-query';
import type { FieldValues, Path, UseControllerReturn } from 'react-hook-form';
import { ErrorState } from './error-state.js';
import { LoadingState } from './loading-state.js';
import { RegionPicker } from './region-picker.js';

interface RegionsFieldProps<T extends FieldValues, N extends Path<T>> {
  /** The one regions query: loading and failing show here, in place of the picker. */
  regions: UseQueryResult<Region[]>;
  /** The form's regions field (ids, primary first). */
  field: UseControllerReturn<T, N>;
  nearestId?: string | undefined;
}

/** A form's region picker, fed by the regions query and bound to a react-hook-form field. */
export function RegionsField<T extends FieldValues, N extends Path<T>>({
  regions,
  field: { field, fieldState },
  nearestId,
}: RegionsFieldProps<T, N>) {
  if (regions.isPending) return <LoadingState label="Loading regions…" />;
  if (regions.isError) return <ErrorState error={regions.error} onRetry={() => void regions.refetch()} />;
  return (
    <RegionPicker
      regions={regions.data}
      value={field.value as string[]}
      onChange={field.onChange}
      inputRef={field.ref}
      nearestId={nearestId}
      error={fieldState.error?.message}
    />
  );
}
