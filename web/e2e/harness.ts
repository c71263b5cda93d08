/**
 * Browser tests of the dashboard against the real thing: `hetu start` (a child process, the
 * embedded log, the demo recording, no Kubernetes context) serving the built web/dist on the
 * API's port, driven by playwright-core with Debian's Chromium. No route stubs: every page reads
 * the real GraphQL API.
 *
 *   const hetu = await startHetu();               // demo played, projections caught up
 *   const { newPage, close } = await openBrowser();
 *   const page = await newPage({ theme: 'dark' });
 *   await page.goto(hetu.url);
 *   ...
 *   await close(); await hetu.stop();
 *
 * The demo takes ~30 s to go through the pipeline, so the first startHetu() of a run plays it into
 * a template data directory (under .cache/e2e, keyed by the demo and the server's sources) and
 * every later one starts on a copy of it in seconds. `speed` or `args` start on an empty data
 * directory instead (e.g. the demo paced, so incidents open while a page is watching).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const CLI = join(ROOT, 'cli', 'src', 'main.ts');
const DEMO = join(ROOT, 'demo', 'demo.jsonl.gz');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];
const READY_MS = 240_000;

/** Newest modification time under a path (files only). */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) {
    // Tests and docs do not change what the server writes.
    if (name === 'node_modules' || name === 'dist' || name.endsWith('.test.ts') || name.endsWith('.md'))
      continue;
    max = Math.max(max, newest(join(path, name)));
  }
  return max;
}

let built = false;

/**
 * Builds web/dist with Vite once per test process, when it is missing or older than web/src
 * (scripts/ensure-web.ts decides).
 */
export function buildWebOnce(): void {
  if (built) return;
  const res = spawnSync(NODE, [join(ROOT, 'scripts', 'ensure-web.ts')], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0)
    throw new Error(`Building the dashboard failed (exit ${res.status}): run npm run build:web.`);
  built = true;
}

export interface Hetu {
  /** The dashboard's and the API's origin, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  readonly dataDir: string;
  /** Everything `hetu start` printed so far. */
  output(): string;
  /** POSTs a GraphQL document to the API (as the loopback admin) and returns its data. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export interface StartHetuOptions {
  /** Play the demo at this many times its recorded pace (`--speed`), on an empty data directory. */
  readonly speed?: number;
  /** More arguments of `hetu start` (an empty data directory then). */
  readonly args?: readonly string[];
  /** Extra environment (HETU_* of the calling environment are not passed on otherwise). */
  readonly env?: Record<string, string>;
  /** Wait for /readyz (default true; a paced demo is ready once the projections follow the log). */
  readonly waitReady?: boolean;
}

/** The environment of a child `hetu start`: no Kubernetes context, no inherited HETU_* settings. */
function childEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('HETU_') && k !== 'KUBERNETES_SERVICE_HOST' && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, HOME: home, KUBECONFIG: join(home, 'no-kubeconfig'), NO_COLOR: '1', ...extra };
}

async function waitReady(url: string, child: ChildProcess, out: () => string): Promise<void> {
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`hetu start exited with ${child.exitCode} before it was ready:\n${out()}`);
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`hetu start was not ready within ${READY_MS / 1000} s:\n${out()}`);
}

/** Starts `hetu start` on a free loopback port over `dataDir`; resolves once it listens (and is ready). */
async function launch(
  dataDir: string,
  args: readonly string[],
  env: Record<string, string>,
  ready: boolean,
): Promise<Hetu> {
  const child = spawn(NODE, [CLI, '--data-dir', dataDir, 'start', '--port', '0', ...args], {
    cwd: ROOT,
    env: childEnv(dataDir, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /GraphQL API: (http:\/\/[^\s]+)\/graphql/.exec(text);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`hetu start exited with ${code}:\n${text}`)));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    }
  };
  try {
    if (ready) await waitReady(url, child, () => text);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    dataDir,
    output: () => text,
    gql: async <T>(query: string, variables: Record<string, unknown> = {}) => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hetu-request': '1' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
      if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join('; ')}`);
      return body.data as T;
    },
    stop,
  };
}

/** The key of the demo template: the demo file and the server's sources. */
function templateKey(): string {
  const parts = [DEMO, 'cli', 'processors', 'projections', 'streams', 'schemas', 'producers'].map((p) => {
    const path = p.startsWith('/') ? p : join(ROOT, p);
    return `${p}:${newest(path)}`;
  });
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
}

/** A data directory with the demo played through (made once, by a first `hetu start`). */
async function demoTemplate(): Promise<string> {
  const base = join(ROOT, '.cache', 'e2e');
  const dir = join(base, `demo-${templateKey()}`);
  if (existsSync(join(dir, 'READY'))) {
    // In use: other test processes only remove templates nobody used for half an hour.
    const now = new Date();
    utimesSync(dir, now, now);
    return dir;
  }
  mkdirSync(base, { recursive: true });
  const work = mkdtempSync(join(base, 'building-'));
  const hetu = await launch(work, [], {}, true);
  await hetu.stop();
  mkdirSync(join(work, 'READY'));
  try {
    renameSync(work, dir);
  } catch {
    // another process made it first: use theirs
    rmSync(work, { recursive: true, force: true });
  }
  // Older templates are of older sources; one used in the last 30 minutes may still be copied by
  // another test process.
  for (const name of readdirSync(base)) {
    const path = join(base, name);
    if (path !== dir && /^(demo|building)-/.test(name) && statSync(path).mtimeMs < Date.now() - 1_800_000)
      rmSync(path, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Runs the real `hetu start` serving the dashboard (built first if needed), with the demo
 * recording and no Kubernetes context, on a free loopback port; resolves once /readyz is 200.
 */
export async function startHetu(opts: StartHetuOptions = {}): Promise<Hetu> {
  buildWebOnce();
  const dataDir = mkdtempSync(join(tmpdir(), 'hetu-e2e-'));
  const args = [...(opts.speed !== undefined ? ['--speed', String(opts.speed)] : []), ...(opts.args ?? [])];
  if (args.length === 0) {
    try {
      cpSync(await demoTemplate(), dataDir, { recursive: true });
    } catch {
      // The template went away while copying (removed by another process): make it again.
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir, { recursive: true });
      cpSync(await demoTemplate(), dataDir, { recursive: true });
    }
  }
  try {
    const hetu = await launch(dataDir, args, opts.env ?? {}, opts.waitReady !== false);
    return {
      ...hetu,
      stop: async () => {
        await hetu.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export interface NewPageOptions {
  readonly theme?: 'light' | 'dark';
  readonly viewport?: { width: number; height: number };
}

export interface OpenBrowser {
  readonly browser: Browser;
  /** A page in a new context: the theme as the system's colour scheme and the app's saved choice. */
  newPage(opts?: NewPageOptions): Promise<Page>;
  close(): Promise<void>;
}

/** Launches Debian's Chromium headless. */
export async function openBrowser(): Promise<OpenBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    newPage: async (opts = {}) => {
      const theme = opts.theme ?? 'light';
      const context = await browser.newContext({
        colorScheme: theme,
        viewport: opts.viewport ?? { width: 1280, height: 800 },
      });
      await context.addInitScript(
        `try { localStorage.setItem('hetu.theme', ${JSON.stringify(theme)}); } catch { /* no storage */ }`,
      );
      contexts.push(context);
      return context.newPage();
    },
    close: async () => {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
    },
  };
}

/** One element keyboard focus reached. */
export interface Focused {
  /** The element's tag (lower case), role attribute and accessible name (aria-label, labels, text). */
  readonly tag: string;
  readonly role: string | null;
  readonly name: string;
  /** Whether it is visible (a focus ring can be seen). */
  readonly visible: boolean;
}

// Browser-side code as text: this module is also loaded by Node scripts type-checked without DOM.
/** What has focus: tag, role, accessible name (aria-label, aria-labelledby, labels, placeholder, title, text). */
const DESCRIBE_FOCUS = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { tag: 'body', role: null, name: '', visible: false };
  const byIds = (ids) => (ids || '').split(/\\s+/).map((id) => document.getElementById(id)?.textContent?.trim() || '').filter(Boolean).join(' ');
  const labels = el.labels ? [...el.labels] : [];
  const name =
    el.getAttribute('aria-label')?.trim() ||
    byIds(el.getAttribute('aria-labelledby')) ||
    labels.map((l) => l.textContent?.trim() || '').join(' ').trim() ||
    el.placeholder?.trim() ||
    el.getAttribute('title')?.trim() ||
    (el.textContent || '').replace(/\\s+/g, ' ').trim();
  const r = el.getBoundingClientRect();
  return { tag: el.tagName.toLowerCase(), role: el.getAttribute('role'), name, visible: r.width > 0 && r.height > 0 };
})()`;

/** The focused element's place in the document (to see focus come back round). */
const FOCUS_PATH = `(() => {
  const path = [];
  for (let el = document.activeElement; el && el !== document.body; el = el.parentElement)
    path.unshift(el.tagName + ':' + (el.parentElement ? [...el.parentElement.children].indexOf(el) : 0));
  return path.join('/');
})()`;

/**
 * Presses Tab `n` times from the current focus and returns what got focus each time, so a test
 * can assert the keyboard reaches every control (and that each has a name).
 */
export async function tabThrough(page: Page, n: number): Promise<Focused[]> {
  const out: Focused[] = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    out.push(await page.evaluate<Focused>(DESCRIBE_FOCUS));
  }
  return out;
}

/**
 * Tabs until focus comes back round (or `max` presses) and returns every distinct stop: the set
 * of controls the keyboard reaches on the page.
 */
export async function tabCycle(page: Page, max = 400): Promise<Focused[]> {
  await page.evaluate('document.activeElement?.blur()');
  const seen: Focused[] = [];
  const keys = new Set<string>();
  let first: string | null = null;
  for (let i = 0; i < max; i++) {
    const [f] = await tabThrough(page, 1);
    const key = await page.evaluate<string>(FOCUS_PATH);
    if (key === first) break;
    first ??= key;
    if (!keys.has(key)) {
      keys.add(key);
      seen.push(f!);
    }
  }
  return seen;
}
