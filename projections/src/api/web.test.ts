/**
 * The dashboard on the API's port: a real fastify app (buildApi over projections of an empty
 * embedded log) serving a small built app from a temporary directory, asked with `app.inject()`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistryClient, createSerde, startEmbeddedRegistry, topicSpecs } from '@hetu/schemas';
import { EmbeddedLog, logSchemaStore } from '@hetu/streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Projections } from '../projections.ts';
import { buildApi, type Api } from './app.ts';
import { WEB_CSP, isApiPath } from './web.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-web-serve-'));
const webRoot = join(dir, 'dist');
const INDEX =
  '<!doctype html><html><body><div id="root"></div><script src="/assets/app-1a2b.js"></script></body></html>';

let log: EmbeddedLog;
let registry: Awaited<ReturnType<typeof startEmbeddedRegistry>>;
let projections: Projections;
let api: Api;
let bare: Api;

beforeAll(async () => {
  mkdirSync(join(webRoot, 'assets'), { recursive: true });
  writeFileSync(join(webRoot, 'index.html'), INDEX);
  writeFileSync(join(webRoot, 'assets', 'app-1a2b.js'), 'console.log("hetu")');
  writeFileSync(join(webRoot, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  log = new EmbeddedLog({ dataDir: join(dir, 'log') });
  await log.ensureTopics(topicSpecs());
  registry = await startEmbeddedRegistry({ store: await logSchemaStore(log) });
  const serde = createSerde(createRegistryClient({ url: registry.url }));
  projections = await Projections.start({ log, serde });
  api = await buildApi({ projections, log, serde, webRoot, defaultMetrics: false });
  bare = await buildApi({ projections, log, serde, defaultMetrics: false });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await bare?.close();
  await projections?.close();
  await registry?.close();
  await log?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard on the API port', () => {
  it('serves index.html at / with no-cache and the CSP', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toBe(INDEX);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toBe(WEB_CSP);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers any page path, with its query, with index.html (deep links)', async () => {
    for (const url of [
      '/drill?scope=cluster&dimension=reliability',
      '/incidents/abc',
      '/settings',
      '/errors/',
    ]) {
      const res = await api.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX);
      expect(res.headers['cache-control'], url).toBe('no-cache');
    }
    const head = await api.app.inject({ method: 'HEAD', url: '/workloads' });
    expect(head.statusCode).toBe(200);
  });

  it('serves hashed assets as immutable and other files for an hour', async () => {
    const js = await api.app.inject({ method: 'GET', url: '/assets/app-1a2b.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.body).toBe('console.log("hetu")');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await api.app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('answers a missing file with a 404, not the app', async () => {
    for (const url of ['/assets/gone-0000.js', '/robots.txt']) {
      const res = await api.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().errors[0].extensions.code).toBe('HETU_API_NOT_FOUND');
    }
  });

  it('keeps the API paths the API answers', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.headers['content-type']).toMatch(/json/);
    const metrics = await api.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('# HELP');
    const q = await api.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json' },
      payload: { query: '{ __typename }' },
    });
    expect(q.json()).toEqual({ data: { __typename: 'Query' } });
    const under = await api.app.inject({ method: 'GET', url: '/graphql/extra' });
    expect(under.statusCode).toBe(404);
    expect(under.json().errors[0].extensions.code).toBe('HETU_API_NOT_FOUND');
  });

  it('does not answer other methods with the app', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/drill', payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json().errors[0].extensions.code).toBe('HETU_API_NOT_FOUND');
  });

  it('without a webRoot serves only the API', async () => {
    const res = await bare.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(404);
    expect(res.json().errors[0].message).toBe('There is nothing at GET /: the API is at /graphql.');
  });

  it('refuses a webRoot without index.html in one sentence', async () => {
    await expect(
      buildApi({
        projections,
        log,
        serde: createSerde(createRegistryClient({ url: registry.url })),
        webRoot: join(dir, 'nowhere'),
        defaultMetrics: false,
      }),
    ).rejects.toThrow(/There is no index.html in .*nowhere: build the dashboard with 'npm run build:web'/);
  });

  it('tells API paths from page paths', () => {
    expect(isApiPath('/graphql')).toBe(true);
    expect(isApiPath('/metrics/x')).toBe(true);
    expect(isApiPath('/graphqlx')).toBe(false);
    expect(isApiPath('/drill')).toBe(false);
  });
});

describe('about', () => {
  const ABOUT = '{ about { version llm { configured endpoint model pseudonymize dailyTokens } } }';
  const ask = async (a: Api) =>
    (
      await a.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json' },
        payload: { query: ABOUT },
      })
    ).json();

  it('answers the version and LLM setup it was given', async () => {
    const about = {
      version: '9.8.7',
      llm: {
        configured: true,
        endpoint: 'https://llm.example/v1',
        model: 'small-model',
        pseudonymize: true,
        dailyTokens: 250_000,
      },
    };
    const withAbout = await buildApi({
      projections,
      log,
      serde: createSerde(createRegistryClient({ url: registry.url })),
      about,
      defaultMetrics: false,
    });
    try {
      expect(await ask(withAbout)).toEqual({ data: { about } });
    } finally {
      await withAbout.close();
    }
  });

  it('without it: version unknown, no LLM', async () => {
    expect((await ask(bare)).data.about).toEqual({
      version: 'unknown',
      llm: { configured: false, endpoint: null, model: null, pseudonymize: false, dailyTokens: null },
    });
  });
});
