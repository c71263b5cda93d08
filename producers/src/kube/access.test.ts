import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { errorCode } from '@hetu/streams';
import { kubeAccess, kubeSourceOf } from './access.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** The folders `kubeconfig` wrote, removed after the file's tests. */
const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig with a few contexts, written to a fresh folder; returns its path. */
function kubeconfig(users: string, extraClusters = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'hetu-access-'));
  folders.push(dir);
  mkdirSync(join(dir, 'certs'));
  writeFileSync(join(dir, 'certs', 'ca.crt'), 'CA FROM FILE');
  writeFileSync(join(dir, 'certs', 'client.crt'), 'CERT FROM FILE');
  writeFileSync(join(dir, 'certs', 'client.key'), 'KEY FROM FILE');
  writeFileSync(join(dir, 'token'), 'token-from-file\n');
  const path = join(dir, 'config');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
current-context: certs
clusters:
- name: files
  cluster:
    server: https://files.example:6443
    certificate-authority: certs/ca.crt
- name: data
  cluster:
    server: https://10.0.0.1:443
    certificate-authority-data: ${b64('CA FROM DATA')}
    tls-server-name: api.internal
- name: insecure
  cluster:
    server: https://insecure.example
    insecure-skip-tls-verify: true
${extraClusters}
contexts:
- name: certs
  context: { cluster: files, user: certs }
- name: token
  context: { cluster: data, user: token }
- name: tokenfile
  context: { cluster: data, user: tokenfile }
- name: basic
  context: { cluster: insecure, user: basic }
- name: exec
  context: { cluster: data, user: exec }
users:
- name: certs
  user:
    client-certificate: certs/client.crt
    client-key: ${join(dir, 'certs', 'client.key')}
- name: token
  user:
    token: abc.def
    as: someone
- name: tokenfile
  user:
    tokenFile: token
- name: basic
  user:
    username: admin
    password: s3cret
${users}
`,
  );
  return path;
}

const EXEC_USER = `- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /bin/echo
      args: ['{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}']
      interactiveMode: Never`;

async function applied(path: string, context?: string): Promise<RequestOptions> {
  const o: RequestOptions = { headers: { accept: 'application/json' } };
  await kubeAccess({ kubeconfig: path, ...(context !== undefined ? { context } : {}) }).applyTo(o);
  return o;
}

describe('kube access without the client library', () => {
  it('reads client certificates and the CA from files relative to the kubeconfig (current context)', async () => {
    const path = kubeconfig(EXEC_USER);
    const a = kubeAccess({ kubeconfig: path });
    expect(a.context).toBe('certs');
    expect(a.server.href).toBe('https://files.example:6443/');
    const o = await applied(path);
    expect(o.ca?.toString()).toBe('CA FROM FILE');
    expect(o.cert?.toString()).toBe('CERT FROM FILE');
    expect(o.key?.toString()).toBe('KEY FROM FILE');
    expect(o.headers).toEqual({ accept: 'application/json' });
  });

  it('sends a token, impersonation, a token file, basic auth; honours tls-server-name and skip-verify', async () => {
    const path = kubeconfig(EXEC_USER);
    const token = await applied(path, 'token');
    expect(token.ca?.toString()).toBe('CA FROM DATA');
    expect(token.servername).toBe('api.internal');
    expect(token.headers).toEqual({
      accept: 'application/json',
      authorization: 'Bearer abc.def',
      'impersonate-user': 'someone',
    });
    expect((await applied(path, 'tokenfile')).headers).toMatchObject({
      authorization: 'Bearer token-from-file',
    });
    const basic = await applied(path, 'basic');
    expect(basic.auth).toBe('admin:s3cret');
    expect(basic.rejectUnauthorized).toBe(false);
  });

  it('gives what the client library gives for the same contexts', async () => {
    const path = kubeconfig(EXEC_USER);
    for (const context of ['certs', 'token', 'basic']) {
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      kc.setCurrentContext(context);
      const theirs: RequestOptions = { headers: {} };
      await kc.applyToHTTPSOptions(theirs as never);
      const ours: RequestOptions = { headers: {} };
      await kubeAccess({ kubeconfig: path, context }).applyTo(ours);
      expect(String(ours.ca), context).toBe(String(theirs.ca));
      expect(String(ours.cert), context).toBe(String(theirs.cert));
      expect(String(ours.key), context).toBe(String(theirs.key));
      expect(ours.auth, context).toBe(theirs.auth);
      expect(ours.rejectUnauthorized ?? true, context).toBe(theirs.rejectUnauthorized ?? true);
      const auth = (h: RequestOptions['headers']) =>
        Object.entries(h ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
      expect(auth(ours.headers), context).toBe(auth(theirs.headers));
    }
  });

  it('hands an exec plugin to the client library, loaded on the first request', async () => {
    const o = await applied(kubeconfig(EXEC_USER), 'exec');
    expect(o.ca?.toString()).toBe('CA FROM DATA');
    expect((o.headers as Record<string, string>)['Authorization']).toBe('Bearer from-exec');
  });

  it('says what is wrong with a kubeconfig in one sentence', () => {
    const path = kubeconfig(EXEC_USER);
    const fail = (f: () => unknown): unknown => {
      try {
        f();
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const noContext = fail(() => kubeAccess({ kubeconfig: path, context: 'nope' }));
    expect(errorCode(noContext)).toBe('HETU_KUBE_CONFIG_MISSING');
    expect((noContext as Error).message).toBe(
      `The kubeconfig ${path} has no context nope: use one of certs, token, tokenfile, basic, exec.`,
    );
    const missing = fail(() => kubeAccess({ kubeconfig: '/nonexistent/config' }));
    expect((missing as Error).message).toMatch(
      /^The kubeconfig \/nonexistent\/config could not be read \(ENOENT/,
    );
    expect(() => kubeSourceOf({}, 'log collector')).toThrow(
      'The log collector needs a kubeconfig file, a loaded KubeConfig or inCluster: true; pass one of them.',
    );
    const plain = kubeconfig(EXEC_USER, `- name: plain\n  cluster:\n    server: http://plain.example:8080\n`);
    writeFileSync(
      plain,
      readFileSync(plain, 'utf8').replace(
        'contexts:\n',
        'contexts:\n- name: plain\n  context: { cluster: plain, user: token }\n',
      ),
    );
    expect((fail(() => kubeAccess({ kubeconfig: plain, context: 'plain' })) as Error).message).toMatch(
      /is plain http \(http:\/\/plain\.example:8080\) without insecure-skip-tls-verify/,
    );
  });

  it('reads the in-cluster service account as the client library names it', () => {
    const a = kubeAccess(
      { inCluster: true },
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' },
    );
    expect(a.context).toBe('inClusterContext');
    expect(a.server.href).toBe('https://[fd00::1]:6443/');
    expect(() => kubeAccess({ inCluster: true }, {})).toThrow(
      /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT/,
    );
  });
});
