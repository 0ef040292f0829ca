export interface SaveResult {
  ok: boolean;
  message: string;
}

/** What the last save of a settings card said: a status on success, an alert on failure. */
export function SaveNotice({ result }: { result: SaveResult | undefined }) {
  if (!result) return null;
  return (
    <p className={result.ok ? 'notice' : 'form-error'} role={result.ok ? 'status' : 'alert'}>
      {result.message}
    </p>
  );
}
