/** The abusive requests of the GraphQL abuse fault test (what each is, and how to send it). */
export interface AbusiveRequest {
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const position = `{ topic: "hetu.commands", partition: 0, offset: "0" }`;
const json = { 'content-type': 'application/json' };

/** The requests, with `readToken` where a valid token belongs. */
export function abuseRequests(readToken: string): AbusiveRequest[] {
  const read = { ...json, authorization: `Bearer ${readToken}` };
  return ABUSE_LIST(read);
}

const ABUSE_LIST = (read: Record<string, string>): AbusiveRequest[] => [
  {
    name: 'query 50 levels deep',
    headers: read,
    body: JSON.stringify({
      query: `{ ${('after(position: ' + position + ') { ').repeat(49)}clusters${' }'.repeat(49)} }`,
    }),
  },
  {
    name: '1 000 aliases',
    headers: read,
    body: JSON.stringify({
      query: `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: clusters`).join(' ')} }`,
    }),
  },
  {
    name: 'batch of 1 000',
    headers: read,
    body: JSON.stringify(Array.from({ length: 1000 }, () => ({ query: '{ clusters }' }))),
  },
  { name: 'no token', headers: json, body: JSON.stringify({ query: '{ clusters }' }) },
  {
    name: 'wrong token',
    headers: { ...json, authorization: 'Bearer nope' },
    body: JSON.stringify({ query: '{ clusters }' }),
  },
  {
    name: 'read token on a mutation',
    headers: read,
    body: JSON.stringify({ query: 'mutation { splitErrorGroup(id: "x") { id } }' }),
  },
  {
    name: 'CSRF-less simple POST',
    headers: { 'content-type': 'text/plain', authorization: read.authorization! },
    body: JSON.stringify({ query: '{ clusters }' }),
  },
  {
    name: 'body over 1 MiB',
    headers: read,
    body: JSON.stringify({ query: `{ clusters } # ${'x'.repeat(1_100_000)}` }),
  },
  { name: 'garbage JSON', headers: read, body: '{"query": "{ clusters }' },
  {
    name: 'introspection (off)',
    headers: read,
    body: JSON.stringify({ query: '{ __schema { types { name fields { name } } } }' }),
  },
];

/** The names of the kinds. */
export const ABUSE_KINDS: readonly string[] = abuseRequests('x').map((a) => a.name);
