import { useCallback, useEffect, useState, type DependencyList } from 'react';

export type Load<T> =
  { state: 'loading' } | { state: 'error'; error: Error } | { state: 'ok'; value: T; refreshing: boolean };

/**
 * Runs `fn` on mount and whenever deps change, aborting the previous run, so a fast navigation
 * never lets a stale response overwrite a fresh one. `reload` keeps showing the old value.
 */
export function useAsync<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
): [Load<T>, () => void, (value: T) => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setLoad((prev) => (prev.state === 'ok' ? { ...prev, refreshing: true } : { state: 'loading' }));
    fn(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setLoad({ state: 'ok', value, refreshing: false });
      },
      (error: Error) => {
        if (!controller.signal.aborted) setLoad({ state: 'error', error });
      },
    );
    return () => controller.abort();
    // deps are the caller's, plus the reload generation.
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const set = useCallback((value: T) => setLoad({ state: 'ok', value, refreshing: false }), []);
  return [load, reload, set];
}
