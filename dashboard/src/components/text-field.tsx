import type { ComponentPropsWithRef, ReactNode } from 'react';

/** Takes `ref` (react-hook-form's `register` passes one, to focus the first invalid field). */
type TextFieldProps = Omit<ComponentPropsWithRef<'input'>, 'id'> & {
  id: string;
  label: string;
  /** Shown, and announced, only once there is something wrong. */
  error?: string | undefined;
  hint?: ReactNode;
};

/** A labelled input whose error and hint are tied to it with aria-describedby. */
export function TextField({ id, label, error, hint, ...input }: TextFieldProps) {
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={described || undefined}
        spellCheck={false}
        autoCapitalize="off"
        {...input}
      />
      {hint && (
        <div id={`${id}-hint`} className="field-hint">
          {hint}
        </div>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
