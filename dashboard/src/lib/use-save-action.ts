import { useState } from 'react';
import { ApiError } from '../api/client.js';

export interface SaveResult {
  ok: boolean;
  message: string;
}

/**
 * One save at a time for a settings card: which item is busy, and what the last save said (the
 * API's own message on failure). `run` resolves true when the save went through.
 */
export function useSaveAction<T>(onSaved: (value: T) => void) {
  const [busy, setBusy] = useState<string | undefined>();
  const [result, setResult] = useState<SaveResult>();

  const run = async (key: string, action: () => Promise<T>, done: string): Promise<boolean> => {
    setBusy(key);
    setResult(undefined);
    try {
      onSaved(await action());
      setResult({ ok: true, message: done });
      return true;
    } catch (err) {
      setResult({ ok: false, message: err instanceof ApiError ? err.message : 'Could not save' });
      return false;
    } finally {
      setBusy(undefined);
    }
  };

  return { busy, result, run };
}
