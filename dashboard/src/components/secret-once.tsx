import { useState, type ReactNode } from 'react';

/**
 * A secret the API shows once (a token, an invitation link), with a copy button. It lives only
 * in this component's props: "Done" drops it, and nothing caches it.
 */
export function SecretOnce({
  label,
  value,
  children,
  onDone,
}: {
  /** What it is, e.g. "Token": names the value and its copy button. */
  label: string;
  value: string;
  children: ReactNode;
  onDone: () => void;
}) {
  const [copied, setCopied] = useState<'yes' | 'failed' | undefined>();
  const id = `secret-${label.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <div className="secret-once" role="status">
      {children}
      <div className="secret-value">
        <code id={id} aria-label={label}>
          {value}
        </code>
        <button
          type="button"
          aria-label={`Copy the ${label.toLowerCase()}`}
          onClick={() =>
            void (navigator.clipboard?.writeText(value) ?? Promise.reject(new Error('no clipboard'))).then(
              () => setCopied('yes'),
              () => setCopied('failed'),
            )
          }
        >
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      {copied === 'failed' && (
        <p className="field-hint">The browser did not allow copying: select the text and copy it.</p>
      )}
      <button type="button" className="quiet" onClick={onDone}>
        Done, hide it
      </button>
    </div>
  );
}
