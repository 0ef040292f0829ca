import type { FieldErrors, FieldValues, Path, UseFormSetFocus } from 'react-hook-form';

/**
 * An `onInvalid` for `handleSubmit` that takes the keyboard to the first field in error, in the
 * page's order. react-hook-form's own focusing follows the order fields registered in, and a
 * `useController` field (the region list) registers before the inputs above it.
 */
export function focusFirstInvalid<T extends FieldValues>(
  setFocus: UseFormSetFocus<T>,
  order: readonly Path<T>[],
) {
  return (errors: FieldErrors<T>) => {
    const first = order.find((field) => field in errors);
    if (first) setFocus(first);
  };
}
