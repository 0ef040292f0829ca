/** A polite live region, so screen readers hear that something is on its way. */
export function LoadingState({ label }: { label: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}
