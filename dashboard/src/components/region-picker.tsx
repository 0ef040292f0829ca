import type { Region } from '@deploysphere/contracts';
import type { Ref } from 'react';

interface RegionPickerProps {
  regions: readonly Region[];
  /** Selected region ids, primary first. */
  value: readonly string[];
  onChange: (ids: string[]) => void;
  nearestId?: string | undefined;
  error?: string | undefined;
  /** Given the first checkbox, so a failed submit can move focus into the list. */
  inputRef?: Ref<HTMLInputElement> | undefined;
}

const coord = (v: number, pos: string, neg: string) => `${Math.abs(v).toFixed(1)}°${v >= 0 ? pos : neg}`;

/**
 * The configured regions as a list with their locations. Ticking adds a region at the end, so
 * the first ticked is the primary (where the build runs) unless another is made primary.
 */
export function RegionPicker({ regions, value, onChange, nearestId, error, inputRef }: RegionPickerProps) {
  const toggle = (id: string, on: boolean) =>
    onChange(on ? [...value.filter((v) => v !== id), id] : value.filter((v) => v !== id));
  const makePrimary = (id: string) => onChange([id, ...value.filter((v) => v !== id)]);
  return (
    <fieldset
      className={`region-picker${error ? ' invalid' : ''}`}
      aria-describedby={error ? 'regions-error' : undefined}
    >
      <legend>Regions</legend>
      <p className="field-hint">
        The site is served from every region you pick. The primary, listed first, runs the build.
      </p>
      <ul>
        {regions.map((r, i) => {
          const position = value.indexOf(r.id);
          const selected = position >= 0;
          return (
            <li key={r.id} className={`region-option${selected ? ' selected' : ''}`}>
              <label>
                <input
                  ref={i === 0 ? inputRef : undefined}
                  type="checkbox"
                  checked={selected}
                  onChange={(e) => toggle(r.id, e.target.checked)}
                />
                <span className="region-name">{r.name}</span>
                <code className="region-id">{r.id}</code>
                {r.id === nearestId && <span className="badge nearest">Nearest to you</span>}
              </label>
              <span className="region-location">
                {coord(r.latitude, 'N', 'S')}, {coord(r.longitude, 'E', 'W')}
              </span>
              <span className="region-order">
                {position === 0 && <span className="badge primary">Primary</span>}
                {position > 0 && (
                  <button type="button" className="link-button" onClick={() => makePrimary(r.id)}>
                    Make {r.id} primary
                  </button>
                )}
              </span>
            </li>
          );
        })}
      </ul>
      {error && (
        <p id="regions-error" className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
