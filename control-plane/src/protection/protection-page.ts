const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * Served with every sign-in page: no scripts at all. Forms post only to this control plane, whose
 * answer may redirect to `siteOrigin` (the grant exchange): CSP's form-action covers redirects
 * after a submit too, so the site's origin must be listed, and nothing else is.
 */
export function pageHeaders(siteOrigin?: string): Record<string, string> {
  const formAction = siteOrigin ? `'self' ${siteOrigin}` : "'self'";
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

export interface SignInPage {
  host: string;
  returnPath: string;
  mode: 'team' | 'password';
  /** A refusal to show above the form. */
  error?: string;
  /** Where the dashboard's sign-in is. */
  dashboardUrl: string;
}

function hidden(page: SignInPage): string {
  return `<input type="hidden" name="host" value="${escapeHtml(page.host)}"><input type="hidden" name="return" value="${escapeHtml(page.returnPath)}">`;
}

/**
 * The page a visitor of a protected host lands on when the control plane cannot vouch for them
 * yet. The "Continue" form posts back to this origin, so a browser sends the dashboard's
 * SameSite=Strict session cookie with it even when the redirect from the site did not.
 */
export function signInPage(page: SignInPage): string {
  const error = page.error ? `<p class="error" role="alert">${escapeHtml(page.error)}</p>` : '';
  const password =
    page.mode === 'password'
      ? `<form method="post" action="/protection/authorize">${hidden(page)}
<label>Password <input type="password" name="password" autocomplete="current-password" required autofocus></label>
<button type="submit">View the site</button></form><p>Or, as a member of its team:</p>`
      : '';
  return shell(
    `${escapeHtml(page.host)} is protected`,
    `${error}<h1>${escapeHtml(page.host)} is protected</h1>
${password}<form method="post" action="/protection/authorize">${hidden(page)}<input type="hidden" name="intent" value="session">
<button type="submit">Continue as a signed-in team member</button></form>
<p><a href="${escapeHtml(page.dashboardUrl)}">Sign in to the dashboard</a> first if you are not signed in, then open the site again.</p>`,
  );
}

export function messagePage(title: string, message: string): string {
  return shell(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}

function shell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · DeploySphere</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;color:#1f2937}main{max-width:28rem;padding:2rem}h1{font-size:1.4rem}.error{color:#b91c1c}form{margin:1rem 0}input[type=password]{display:block;width:100%;margin:.25rem 0 .75rem;padding:.4rem}</style>
</head><body><main>${body}</main></body></html>
`;
}
