import { CACHE_NONE } from '../site/cache-control.js';

const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The platform's own page (unknown host, missing page, outage): tiny, self-contained, never cached. */
export function platformPage(
  status: number,
  title: string,
  message: string,
  headers?: Record<string, string>,
): Response {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${status} ${escapeHtml(title)} · DeploySphere</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;color:#1f2937}main{text-align:center;padding:2rem}h1{font-size:3rem;margin:0}p{color:#6b7280}</style>
</head><body><main><h1>${status}</h1><p>${escapeHtml(message)}</p></main></body></html>
`;
  const response = new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': CACHE_NONE },
  });
  for (const [name, value] of Object.entries(headers ?? {})) response.headers.set(name, value);
  return response;
}

export const unknownHostPage = (): Response =>
  platformPage(
    404,
    'Not found',
    'There is no site at this address. Check the URL, or the domain settings of the project.',
  );

export const sitePageNotFound = (): Response =>
  platformPage(404, 'Not found', 'This page could not be found.');
