import Anser from 'anser';
import { memo, type CSSProperties } from 'react';

/** xterm's 256-colour palette above the 16 named colours: a 6×6×6 cube, then 24 greys. */
function paletteRgb(index: number): string {
  if (index >= 232) {
    const v = 8 + (index - 232) * 10;
    return `${v}, ${v}, ${v}`;
  }
  const i = index - 16;
  const level = (n: number) => (n === 0 ? 0 : 55 + n * 40);
  return `${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)}`;
}

/** A class for the 16 named colours (themed in CSS for contrast), inline rgb for the rest. */
function colour(cls: string | null | undefined, truecolor: string | null | undefined, suffix: 'fg' | 'bg') {
  if (!cls) return {};
  if (cls === 'ansi-truecolor' && truecolor) return { rgb: truecolor };
  const palette = /^ansi-palette-(\d+)$/.exec(cls);
  if (palette) return { rgb: paletteRgb(Number(palette[1])) };
  return { className: `${cls}-${suffix}` };
}

/**
 * One line of terminal output with its ANSI colours and styles, parsed by anser into spans: never
 * HTML, so a build cannot inject markup into the dashboard.
 */
export const AnsiText = memo(function AnsiText({ text }: { text: string }) {
  // Fast path: most lines carry no escape codes at all.
  if (!text.includes('\u001b')) return <>{text}</>;
  const parts = Anser.ansiToJson(text, { json: true, remove_empty: true, use_classes: true });
  return (
    <>
      {parts.map((part, i) => {
        const fg = colour(part.fg, part.fg_truecolor, 'fg');
        const bg = colour(part.bg, part.bg_truecolor, 'bg');
        const style: CSSProperties = {};
        if (fg.rgb) style.color = `rgb(${fg.rgb})`;
        if (bg.rgb) style.backgroundColor = `rgb(${bg.rgb})`;
        const classes = [fg.className, bg.className, ...part.decorations.map((d) => `ansi-${d}`)].filter(
          Boolean,
        );
        if (classes.length === 0 && !fg.rgb && !bg.rgb) return <span key={i}>{part.content}</span>;
        return (
          <span
            key={i}
            className={classes.join(' ') || undefined}
            style={fg.rgb || bg.rgb ? style : undefined}
          >
            {part.content}
          </span>
        );
      })}
    </>
  );
});

const textCache = new Map<string, string>();

/** The line without escape codes: what search matches and what the download contains. */
export function plainText(text: string): string {
  if (!text.includes('\u001b')) return text;
  let plain = textCache.get(text);
  if (plain === undefined) {
    plain = Anser.ansiToText(text);
    // Bounded, so a long build cannot grow it without limit.
    if (textCache.size > 10_000) textCache.clear();
    textCache.set(text, plain);
  }
  return plain;
}
