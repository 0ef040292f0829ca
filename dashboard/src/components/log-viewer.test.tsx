import type { LogEntry } from '@deploysphere/contracts';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_ROW_HEIGHT, LogViewer } from './log-viewer.js';

afterEach(cleanup);

const ESC = '\u001b';
const line = (seq: number, message: string, stream: LogEntry['stream'] = 'stdout'): LogEntry => ({
  seq,
  ts: '2026-11-22T10:00:00.000Z',
  stream,
  message,
});

function manyLines(n: number): LogEntry[] {
  const lines = new Array<LogEntry>(n);
  for (let i = 0; i < n; i++) {
    lines[i] = line(i + 1, i % 10 === 0 ? `${ESC}[32mstep ${i + 1}${ESC}[0m done` : `output line ${i + 1}`);
  }
  return lines;
}

const view = (lines: readonly LogEntry[], live = true) => (
  <LogViewer lines={lines} live={live} fileName="site-abc" emptyText="Waiting for the first lines…" />
);

const rows = (container: HTMLElement) => container.querySelectorAll('.log-row');

/** jsdom has no layout: give the scroller the geometry a browser would. */
function giveGeometry(scroller: HTMLElement, totalLines: number, viewport = 480) {
  Object.defineProperty(scroller, 'clientHeight', { configurable: true, value: viewport });
  Object.defineProperty(scroller, 'scrollHeight', { configurable: true, value: totalLines * LOG_ROW_HEIGHT });
}

describe('log viewer: ANSI', () => {
  it('renders colours and styles as classes, without the escape codes', () => {
    const { container } = render(
      view([
        line(
          1,
          `${ESC}[31mred${ESC}[0m plain ${ESC}[1;32mbold green${ESC}[0m ${ESC}[38;5;208morange${ESC}[0m`,
        ),
      ]),
    );
    const msg = container.querySelector('.log-msg')!;
    expect(msg.textContent).toBe('red plain bold green orange');
    expect(msg.textContent).not.toContain(ESC);
    expect(screen.getByText('red').className).toBe('ansi-red-fg');
    const bold = screen.getByText('bold green');
    expect(bold.classList).toContain('ansi-green-fg');
    expect(bold.classList).toContain('ansi-bold');
    // 256-colour palette entries have no class: they become inline rgb.
    expect(screen.getByText('orange').getAttribute('style')).toMatch(/color: rgb\(255, 135, 0\)/);
  });

  it('never turns output into markup', () => {
    const { container } = render(
      view([line(1, `${ESC}[33m<img src=x onerror="alert(1)">${ESC}[0m<b>x</b>`)]),
    );
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('.log-msg b')).toBeNull();
    expect(container.querySelector('.log-msg')!.textContent).toBe('<img src=x onerror="alert(1)"><b>x</b>');
  });

  it('highlights stderr, numbers the lines, and says so for screen readers', () => {
    const { container } = render(view([line(7, 'fine'), line(8, 'npm ERR! missing script', 'stderr')]));
    const [out, err] = rows(container);
    expect(out!.classList).toContain('log-stdout');
    expect(err!.classList).toContain('log-stderr');
    expect(err!.querySelector('.log-ln')!.textContent).toBe('8');
    expect(err!.textContent).toContain('stderr: ');
  });

  it('shows the empty text until lines arrive', () => {
    render(view([]));
    expect(screen.getByText('Waiting for the first lines…')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Download' })).toHaveProperty('disabled', true);
  });
});

describe('log viewer: 100,000 lines', () => {
  const lines = manyLines(100_000);

  it('keeps only a window of rows in the DOM and follows the end', () => {
    const { container } = render(view(lines));
    const count = rows(container).length;
    expect(count).toBeGreaterThan(10);
    expect(count).toBeLessThan(80);
    expect(container.querySelector('.log-canvas')!.getAttribute('style')).toContain(
      `height: ${100_000 * LOG_ROW_HEIGHT}px`,
    );
    // Following: the last line is rendered.
    expect(container.querySelector('[data-seq="100000"]')).not.toBeNull();
    expect(screen.getByText('100,000 lines')).toBeTruthy();
  });

  it('renders the rows in view after a scroll, pausing auto-scroll, and still a bounded number', () => {
    const { container } = render(view(lines));
    const scroller = screen.getByTestId('log-scroller');
    giveGeometry(scroller, lines.length);
    act(() => {
      scroller.scrollTop = 50_000 * LOG_ROW_HEIGHT;
      fireEvent.scroll(scroller);
    });
    expect(container.querySelector('[data-seq="50001"]')).not.toBeNull();
    expect(container.querySelector('[data-seq="100000"]')).toBeNull();
    expect(rows(container).length).toBeLessThan(80);
    // Scrolling up paused following; the button says how to resume.
    expect(screen.getByRole('button', { name: 'Resume auto-scroll' }).getAttribute('aria-pressed')).toBe(
      'true',
    );

    // More lines arrive while paused: the window stays where the reader is.
    const more = lines.concat(manyLines(1000).map((l) => ({ ...l, seq: l.seq + 100_000 })));
    render(view(more), { container });
    expect(container.querySelector('[data-seq="50001"]')).not.toBeNull();
    expect(rows(container).length).toBeLessThan(80);
  });

  it('filters case-insensitively on the text without escape codes', async () => {
    const { container } = render(view(lines));
    fireEvent.change(screen.getByLabelText('Filter logs'), { target: { value: 'STEP 99991 DONE' } });
    await screen.findByText('1 of 100,000 lines');
    const shown = rows(container);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.getAttribute('data-seq')).toBe('99991');

    fireEvent.change(screen.getByLabelText('Filter logs'), { target: { value: 'no such text' } });
    await screen.findByText('No lines match the filter.');
  });

  it('shows stderr only when asked', () => {
    const mixed = [line(1, 'a'), line(2, 'b', 'stderr'), line(3, 'c'), line(4, 'd', 'stderr')];
    const { container } = render(view(mixed, false));
    fireEvent.click(screen.getByLabelText('stderr only'));
    expect([...rows(container)].map((r) => r.getAttribute('data-seq'))).toEqual(['2', '4']);
  });
});

describe('log viewer: messages with newlines', () => {
  it('gives each line of a message its own row, numbered once', () => {
    const { container } = render(
      view([line(1, 'before'), line(2, 'Build failed: exit 3\nLast lines:\nboom', 'system')]),
    );
    const all = [...rows(container)];
    expect(all.map((r) => r.querySelector('.log-msg')!.textContent)).toEqual([
      'before',
      'Build failed: exit 3',
      'Last lines:',
      'boom',
    ]);
    expect(all.map((r) => r.querySelector('.log-ln')!.textContent)).toEqual(['1', '2', '', '']);
  });
});

describe('log viewer: a shared, growing array', () => {
  it('shows only the first `count` lines, so the live feed can append without copying', () => {
    const shared = [line(1, 'one'), line(2, 'two'), line(3, 'not flushed yet')];
    const { container } = render(
      <LogViewer
        lines={shared}
        count={2}
        live
        fileName="site-abc"
        emptyText="Waiting for the first lines…"
      />,
    );
    expect([...rows(container)].map((r) => r.getAttribute('data-seq'))).toEqual(['1', '2']);
    expect(screen.getByText('2 lines')).toBeTruthy();
  });
});
