import { LOG_LINE_MAX_CHARS } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { CollectingLogSink } from './log-sink.js';
import { MaskingLogSink, SECRET_MASK, SecretMasker, secretsFromEnv } from './secret-masker.js';

describe('secretsFromEnv', () => {
  it('takes values and lines of multi-line values, skipping short ones', () => {
    const secrets = secretsFromEnv({ A: 's3cr3t-value', B: 'true', C: 'line-one-x\nline-two-y', D: '1' });
    expect(secrets).toEqual(
      expect.arrayContaining(['s3cr3t-value', 'line-one-x\nline-two-y', 'line-one-x', 'line-two-y']),
    );
    expect(secrets).not.toContain('true');
  });
});

describe('SecretMasker', () => {
  it('masks the longest secret first and keeps ANSI escapes', () => {
    const m = new SecretMasker(['abcdef', 'abcdefghij']);
    expect(m.mask('\u001b[31mabcdefghij and abcdef\u001b[0m')).toBe(
      `\u001b[31m${SECRET_MASK} and ${SECRET_MASK}\u001b[0m`,
    );
  });

  it('escapes regex metacharacters in secrets', () => {
    const m = new SecretMasker(['a.b*c(d)']);
    expect(m.mask('x a.b*c(d) aXbbc(d)')).toBe(`x ${SECRET_MASK} aXbbc(d)`);
  });

  it('never cuts inside a secret', () => {
    const m = new SecretMasker(['secret123']);
    const text = 'xxsecret123yy';
    expect(m.safeCut(text, 5)).toBe(2);
    expect(m.safeCut(text, 11)).toBe(11);
  });
});

describe('MaskingLogSink', () => {
  it('masks a secret that the process reader cut in two', () => {
    const out = new CollectingLogSink();
    const sink = new MaskingLogSink(['TOPSECRETVALUE'], out);
    const whole = 'x'.repeat(LOG_LINE_MAX_CHARS - 5) + 'TOPSECRETVALUE' + 'tail';
    sink.write('stdout', whole.slice(0, LOG_LINE_MAX_CHARS));
    sink.write('stdout', whole.slice(LOG_LINE_MAX_CHARS));
    sink.flushHeld();
    expect(out.text()).not.toContain('TOPSEC');
    expect(out.text()).not.toContain('VALUE');
    expect(out.lines.map((l) => l.line).join('')).toBe(
      'x'.repeat(LOG_LINE_MAX_CHARS - 5) + SECRET_MASK + 'tail',
    );
  });

  it('splits long lines and passes other streams through in order', () => {
    const out = new CollectingLogSink();
    const sink = new MaskingLogSink([], out);
    sink.write('stderr', 'y'.repeat(LOG_LINE_MAX_CHARS * 2 + 1));
    sink.write('system', 'done');
    expect(out.lines.map((l) => [l.stream, l.line.length])).toEqual([
      ['stderr', LOG_LINE_MAX_CHARS],
      ['stderr', LOG_LINE_MAX_CHARS],
      ['stderr', 1],
      ['system', 4],
    ]);
  });

  it('bounds what it holds back for an endless line', () => {
    const out = new CollectingLogSink();
    const sink = new MaskingLogSink(['SECRETSECRET'], out);
    for (let i = 0; i < 20; i++) sink.write('stdout', 'z'.repeat(LOG_LINE_MAX_CHARS));
    expect(out.lines.length).toBeGreaterThan(0);
    sink.flushHeld();
    expect(out.lines.reduce((n, l) => n + l.line.length, 0)).toBe(20 * LOG_LINE_MAX_CHARS);
  });
});
