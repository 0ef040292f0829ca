import type { TrafficView } from '@deploysphere/contracts';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { TrafficChart } from './traffic-chart.js';

afterEach(cleanup);

const view: TrafficView = {
  window: '1h',
  stepSeconds: 60,
  from: '2026-11-22T10:00:00.000Z',
  to: '2026-11-22T11:00:00.000Z',
  regions: ['eu-west-1', 'us-east-1'],
  points: [
    {
      t: '2026-11-22T10:05:00.000Z',
      region: 'eu-west-1',
      requests: 10,
      clientErrors: 1,
      serverErrors: 0,
      bytes: 100,
    },
    {
      t: '2026-11-22T10:06:00.000Z',
      region: 'eu-west-1',
      requests: 5,
      clientErrors: 0,
      serverErrors: 2,
      bytes: 50,
    },
    {
      t: '2026-11-22T10:06:00.000Z',
      region: 'us-east-1',
      requests: 7,
      clientErrors: 0,
      serverErrors: 0,
      bytes: 70,
    },
  ],
};

describe('TrafficChart', () => {
  it('draws one line per region plus errors, with totals in the legend', () => {
    const { container } = render(<TrafficChart view={view} />);
    expect(container.querySelectorAll('polyline')).toHaveLength(3);
    expect(screen.getByText(/eu-west-1: 15/)).toBeTruthy();
    expect(screen.getByText(/us-east-1: 7/)).toBeTruthy();
    expect(screen.getByText(/errors: 3/)).toBeTruthy();
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('per 1 minutes');
  });

  it('scales the y axis to the busiest bucket', () => {
    const { container } = render(<TrafficChart view={view} />);
    const labels = [...container.querySelectorAll('text')].map((t) => t.textContent);
    expect(labels).toContain('10');
  });
});
