import type { TrafficView } from '@deploysphere/contracts';

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 44 };
/** Region lines take these in order; errors are always red. */
const COLOURS = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777'];
const ERROR_COLOUR = '#dc2626';

interface Series {
  name: string;
  colour: string;
  values: number[];
}

/**
 * Requests per region and errors (4xx + 5xx, all regions) per bucket, as an SVG line chart.
 * Buckets without traffic are zeros, so a quiet hour reads as quiet rather than as a gap.
 */
export function TrafficChart({ view }: { view: TrafficView }) {
  const from = Date.parse(view.from);
  const step = view.stepSeconds * 1000;
  const buckets = Math.max(1, Math.ceil((Date.parse(view.to) - from) / step));
  const index = (t: string) => Math.min(buckets - 1, Math.max(0, Math.floor((Date.parse(t) - from) / step)));

  const series: Series[] = view.regions.map((region, i) => ({
    name: region,
    colour: COLOURS[i % COLOURS.length]!,
    values: new Array<number>(buckets).fill(0),
  }));
  const errors: Series = { name: 'errors', colour: ERROR_COLOUR, values: new Array<number>(buckets).fill(0) };
  for (const p of view.points) {
    const s = series.find((x) => x.name === p.region);
    if (s) s.values[index(p.t)]! += p.requests;
    errors.values[index(p.t)]! += p.clientErrors + p.serverErrors;
  }
  const all = [...series, errors];
  const max = Math.max(1, ...all.flatMap((s) => s.values));
  const x = (i: number) => PAD.left + (i / Math.max(1, buckets - 1)) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => HEIGHT - PAD.bottom - (v / max) * (HEIGHT - PAD.top - PAD.bottom);
  const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const totals = all.map((s) => s.values.reduce((a, b) => a + b, 0));

  return (
    <figure className="traffic-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Requests per ${view.stepSeconds / 60} minutes, by region, with errors`}
      >
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(max * f)} y2={y(max * f)} className="grid" />
            <text x={PAD.left - 6} y={y(max * f) + 4} textAnchor="end" className="axis">
              {Math.round(max * f)}
            </text>
          </g>
        ))}
        <text x={PAD.left} y={HEIGHT - 8} className="axis">
          {time(from)}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 8} textAnchor="end" className="axis">
          {time(Date.parse(view.to))}
        </text>
        {all.map((s) => (
          <polyline
            key={s.name}
            fill="none"
            stroke={s.colour}
            strokeWidth={s === errors ? 1.5 : 2}
            strokeDasharray={s === errors ? '4 3' : undefined}
            points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}
          />
        ))}
      </svg>
      <figcaption className="legend">
        {all.map((s, i) => (
          <span key={s.name}>
            <span className="swatch" style={{ background: s.colour }} aria-hidden="true" /> {s.name}:{' '}
            {totals[i]}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
