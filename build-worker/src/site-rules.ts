import {
  HeaderRuleSchema,
  RedirectRuleSchema,
  type HeaderRule,
  type RedirectRule,
} from '@deploysphere/contracts';

/** Called once per line that was ignored, with a message naming the file and line number. */
export type RuleProblemReporter = (message: string) => void;

/** Cloudflare Pages' own limits: 2,000 static plus 100 dynamic redirects, 100 header rules. */
export const MAX_REDIRECT_RULES = 2100;
export const MAX_HEADER_RULES = 100;

const REDIRECT_STATUSES = new Set([200, 301, 302, 307, 308]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parses a Netlify / Cloudflare Pages `_redirects` file: one `from to [status][!]` rule per line,
 * `#` comments. The status defaults to 301; `!` forces the rule even when a file matches.
 * Lines we cannot honour are reported and skipped, never fatal.
 */
export function parseRedirects(text: string, report: RuleProblemReporter): RedirectRule[] {
  const rules: RedirectRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const where = `_redirects line ${index + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const tokens = line.split(/\s+/);
    const [from, to, statusToken, ...rest] = tokens;
    if (from === undefined || to === undefined) return report(`${where}: expected "from to [status]"`);
    if (rest.length > 0) return report(`${where}: conditions and extra fields are not supported`);
    if (!from.startsWith('/')) return report(`${where}: the source must start with "/"`);
    if (!to.startsWith('/') && !/^https?:\/\//i.test(to)) {
      return report(`${where}: the destination must start with "/" or http(s)://`);
    }
    let status = 301;
    let force = false;
    if (statusToken !== undefined) {
      const match = /^(\d{3})(!?)$/.exec(statusToken);
      if (!match || !REDIRECT_STATUSES.has(Number(match[1]))) {
        return report(
          `${where}: unsupported status ${JSON.stringify(statusToken)} (use 200, 301, 302, 307 or 308)`,
        );
      }
      status = Number(match[1]);
      force = match[2] === '!';
    }
    if (rules.length >= MAX_REDIRECT_RULES)
      return report(`${where}: more than ${MAX_REDIRECT_RULES} rules; ignored`);
    const parsed = RedirectRuleSchema.safeParse({ from, to, status, force });
    if (!parsed.success) return report(`${where}: ${parsed.error.issues[0]?.message ?? 'invalid rule'}`);
    rules.push(parsed.data);
  });
  return rules;
}

/**
 * Parses a `_headers` file: an unindented path pattern, then indented `Name: value` lines.
 * Repeated names are joined with ", ". Detaching (`! Name`) is not supported and is reported.
 */
export function parseHeaders(text: string, report: RuleProblemReporter): HeaderRule[] {
  const rules: HeaderRule[] = [];
  let current: { pattern: string; headers: Record<string, string>; line: number } | null = null;
  const flush = () => {
    if (current === null) return;
    if (Object.keys(current.headers).length === 0) {
      report(`_headers line ${current.line}: pattern ${JSON.stringify(current.pattern)} has no headers`);
    } else if (rules.length >= MAX_HEADER_RULES) {
      report(`_headers line ${current.line}: more than ${MAX_HEADER_RULES} rules; ignored`);
    } else {
      const parsed = HeaderRuleSchema.safeParse({ pattern: current.pattern, headers: current.headers });
      if (parsed.success) rules.push(parsed.data);
      else report(`_headers line ${current.line}: ${parsed.error.issues[0]?.message ?? 'invalid rule'}`);
    }
    current = null;
  };

  text.split(/\r?\n/).forEach((raw, index) => {
    const where = `_headers line ${index + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const indented = /^\s/.test(raw);
    if (!indented) {
      flush();
      if (!line.startsWith('/') && !/^https?:\/\//i.test(line)) {
        report(`${where}: a path pattern must start with "/"`);
        return;
      }
      current = { pattern: line, headers: {}, line: index + 1 };
      return;
    }
    if (current === null) return report(`${where}: header line without a path pattern above it`);
    if (line.startsWith('!')) return report(`${where}: detaching headers ("! Name") is not supported`);
    const colon = line.indexOf(':');
    if (colon <= 0) return report(`${where}: expected "Name: value"`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name)) return report(`${where}: invalid header name ${JSON.stringify(name)}`);
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return report(`${where}: invalid characters in the value`);
    const key = name.toLowerCase();
    const existing = Object.keys(current.headers).find((k) => k.toLowerCase() === key);
    if (existing !== undefined) current.headers[existing] = `${current.headers[existing]}, ${value}`;
    else current.headers[name] = value;
  });
  flush();
  return rules;
}
