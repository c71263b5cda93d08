/**
 * The dashboard on the API's port: the built web app (web/dist) as static files, and every other
 * GET of a page path answered with its index.html, so deep links such as /drill?scope=… load the
 * app, which routes in the browser. The API's own paths keep their JSON answers.
 */
import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import { HetuError } from '@hetu/streams';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths that belong to the API: never answered with the app. */
export const API_PATHS = ['/graphql', '/healthz', '/readyz', '/metrics'] as const;

/**
 * The dashboard's Content-Security-Policy: scripts, styles, fonts and data only from the same
 * origin (the GraphQL API and its WebSocket included); inline styles allowed because charts set
 * element styles; no frames, plugins or foreign form targets.
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Hashed build output (Vite's `assets/`) never changes under one name: cached for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current hashed files: revalidated on every load. */
const REVALIDATE = 'no-cache';
/** Other files at the root (icons): an hour. */
const SHORT = 'public, max-age=3600';

function securityHeaders(set: (name: string, value: string) => void): void {
  set('content-security-policy', WEB_CSP);
  set('x-content-type-options', 'nosniff');
  set('referrer-policy', 'no-referrer');
  set('x-frame-options', 'DENY');
}

/** Whether a request path is one of the API's (or below one). */
export function isApiPath(path: string): boolean {
  return API_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

/** Whether a path names a file (its last segment has an extension): those are never the app. */
function looksLikeFile(path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last.includes('.');
}

/**
 * Serves `root` (a built web app with an index.html) on `app`. Returns the not-found fallback:
 * it answers a GET or HEAD of a page path with index.html and returns true, else returns false
 * (the caller answers 404).
 */
export async function registerWeb(
  app: FastifyInstance,
  root: string,
): Promise<(req: FastifyRequest, res: FastifyReply) => boolean> {
  const dir = resolve(root);
  if (!existsSync(join(dir, 'index.html')))
    throw new HetuError(
      'HETU_API_NO_WEB',
      `There is no index.html in ${dir}: build the dashboard with 'npm run build:web', or start without it.`,
    );
  const assets = `${join(dir, 'assets')}${sep}`;
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: false,
    cacheControl: false,
    setHeaders: (res: FastifyReply, path: string) => {
      void res.header(
        'cache-control',
        path.startsWith(assets) ? IMMUTABLE : path.endsWith('index.html') ? REVALIDATE : SHORT,
      );
      securityHeaders((n, v) => void res.header(n, v));
    },
  });
  // The root is a directory (the static route would refuse it): the app.
  app.get('/', (_req, res) => res.sendFile('index.html'));
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = req.url.split('?')[0]!;
    if (isApiPath(path) || looksLikeFile(path)) return false;
    void res.sendFile('index.html');
    return true;
  };
}
