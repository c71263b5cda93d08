import { describe, expect, it } from 'vitest';
import { maskTokens } from './mask.ts';

const tpl = (s: string): string => maskTokens(s).join(' ');

describe('maskTokens', () => {
  it.each([
    ['Request 42 took 250ms', 'Request <num> took <dur>'],
    ['retry in -3.5e2 seconds', 'retry in <dur>'],
    ['flags 0x1f and id 9f4ef63a', 'flags <hex> and id <hex>'],
    ['trace 7f9c2ba4-e88f-4a1b-9c3d-1234567890ab', 'trace <uuid>'],
    ['from 10.0.0.1:8080 and fe80::1ff:fe23:4567:890a', 'from <ip> and <ip>'],
    ['at 2024-05-01T10:00:00.123Z, 17/06/09 20:10:40', 'at <ts>, <ts>'],
    ['elapsed 1h30m5s', 'elapsed <dur>'],
    ["error \"refused\" on 'db-main' (reason='no route to host')", 'error <str> on <str> (reason=<str>)'],
    [
      '"GET /v2/54fadb41/servers/detail HTTP/1.1" status: 200',
      '"GET /v2/<hex>/servers/detail HTTP/<num>" status: <num>',
    ],
    ['open /var/log/pods/default_api_1234/app/0.log', 'open /var/log/pods/<path>/app/<path>'],
    [
      'GET /apis/apps/v1beta1/namespaces/ns-42/deployments',
      'GET /apis/apps/v1beta1/namespaces/<path>/deployments',
    ],
    [
      'GET https://api.example.com/users/123/orders?id=5&q=abc',
      'GET https://api.example.com/users/<num>/orders?id=<num>&q=<*>',
    ],
    ['mail to alice@example.com', 'mail to <email>'],
    ['pod api-7d9f8c6b5-x2k4q and ds node-exporter-x2k4q', 'pod api-<pod> and ds node-exporter-<pod>'],
    [
      'acquire lock=233570404, flags=0x1, tag="View Lock", uid=10037',
      'acquire lock=<num>, flags=<hex>, tag=<str>, uid=<num>',
    ],
    ['block blk_-6952295868487656571 on R02-M1-N0-C:J12-U11', 'block <*> on <*>'],
    ['size 93.0 B, free 317.1 KB', 'size <num>, free <num>'],
    ['1190 bytes (1.16 KB) sent in 12 ms', '<num> (<num>) sent in <dur>'],
    ['BLOCK* ask 10.250.18.114:50010 to delete blk_1 blk_2 blk_3', 'BLOCK* ask <ip> to delete <*>'],
    ['at Sun Jul 17 14:59:14 2005', 'at <ts> <num>'],
    ['no variables here', 'no variables here'],
    ['', ''],
  ])('%s → %s', (input, expected) => {
    expect(tpl(input)).toBe(expected);
  });

  it('is stable when only variable tokens change', () => {
    const a = tpl('Connection from 10.1.2.3:5555 closed after 1200ms (user 7, req 9f4ef63a)');
    const b = tpl('Connection from 192.168.0.77:61000 closed after 3s (user 12345, req 0a1b2c3d)');
    expect(a).toBe('Connection from <ip> closed after <dur> (user <num>, req <hex>)');
    expect(b).toBe(a);
  });

  it('differs when constant text differs', () => {
    expect(tpl('Connection from 10.1.2.3 opened')).not.toBe(tpl('Connection from 10.1.2.3 closed'));
    expect(tpl('Disk /dev/sda1 is 91% full')).not.toBe(tpl('Disk /dev/sda1 is 91% empty'));
  });

  it('collapses variable-length lists of placeholders', () => {
    expect(tpl('IRQs 3 4 5 6 7')).toBe(tpl('IRQs 3 4'));
    expect(tpl('nodes node-1 0x1 ok node-2 0x2 ok node-3 0x3 ok')).toBe('nodes <*> <hex> ok');
  });

  it('splits on blanks only, collapsing runs of blanks and tabs', () => {
    expect(maskTokens('a \t  b   c  ')).toEqual(['a', 'b', 'c']);
  });

  it('masks a base64 blob with slashes whole, also after `key=`, but keeps the words of a path', () => {
    const blob = 'cxwYsHqgRsX/or+ENseDNPFC8z0Qa/Zk3PLmNqRsTuVwXyZaBcDeFgHiJkLmNoPqRsTu/VwXyZ0123==';
    expect(tpl(`upload ${blob}`)).toBe('upload <*>');
    expect(tpl(`upload token=${blob}`)).toBe('upload token=<*>');
    expect(tpl(`upload token=${blob.replace('cxwY', 'QQ9z')}`)).toBe('upload token=<*>');
    expect(tpl('open /home/user1/Documents/Projects2024/quarterly/report/final/version/draft.pdf')).toBe(
      'open /home/<path>/Documents/<path>/quarterly/report/final/version/draft.pdf',
    );
  });

  it('leaves a quote that does not close as text', () => {
    expect(tpl('it\'s "unterminated')).toBe('it\'s "unterminated');
  });
});
