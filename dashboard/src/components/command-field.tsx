import type { UseFormRegisterReturn } from 'react-hook-form';

interface CommandFieldProps {
  id: string;
  label: string;
  /** The switch's accessible name, e.g. "Override the detected install command". */
  overrideLabel: string;
  override: boolean;
  overrideProps: UseFormRegisterReturn;
  inputProps: UseFormRegisterReturn;
  /** What runs when the command is not overridden, e.g. "detected: npm run build". */
  detected: string;
  error?: string | undefined;
}

/**
 * A project command with three states the page says in words: not overridden (the detected
 * preset's command runs; the field is disabled and its placeholder names it), overridden with a
 * command, or overridden and empty (the step is skipped).
 */
export function CommandField({
  id,
  label,
  overrideLabel,
  override,
  overrideProps,
  inputProps,
  detected,
  error,
}: CommandFieldProps) {
  const hint = !override
    ? `Not set: ${detected.replace(/^detected: /, '')} runs.`
    : 'Empty: this step is skipped.';
  const described = [`${id}-hint`, error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <label className="checkbox" htmlFor={`${id}-override`}>
        <input id={`${id}-override`} type="checkbox" aria-label={overrideLabel} {...overrideProps} />
        Override
      </label>
      <input
        id={id}
        className="mono"
        disabled={!override}
        placeholder={override ? 'empty: skip this step' : detected}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
        spellCheck={false}
        autoCapitalize="off"
        {...inputProps}
      />
      <div id={`${id}-hint`} className="field-hint">
        {hint}
      </div>
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
