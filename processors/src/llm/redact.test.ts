import { describe, expect, it } from 'vitest';
import { redact, redactValue, secretNameKind } from './redact.ts';

// Fake secrets in the real formats (none of them is live).
const OPENAI_LEGACY = 'sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6l';
const OPENAI_PROJECT = 'sk-proj-Xy9_kL2-mN4pQ6rS8tU0vW2xY4zA6bC8dE0fG2hI4jK6lM8nO0pQ2rS4tU6vW8xY0z';
const ANTHROPIC = 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrSt-AbCdEfAA';
const AWS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_TEMP_KEY_ID = 'ASIAY34FZKBOKMUTVV7A';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const GCP_KEY = 'AIzaSyD3x4mPl3K3y_0123456789abcdefGHIJk';
const GOOGLE_OAUTH = 'ya29.a0AfH6SMBx3kLmN0pQrStUvWxYz1234567890';
const AZURE_CLIENT_SECRET = 'abc8Q~Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE_d';
const AZURE_ACCOUNT_KEY = 'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4MTIzNA==';
const GITHUB_PAT = 'ghp_R2d2C3p0BB8K2soLuKeSkYwAlKeR0123456789';
const GITHUB_OAUTH = 'gho_16C7e42F292c6912E7710c838347Ae178B4a';
const GITHUB_FINE =
  'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const GITLAB = 'glpat-xY9zK2mN4pQ6rS8tU0vW';
const SLACK_BOT = 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
const SLACK_HOOK = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
const STRIPE_LIVE = 'sk_live_51H8xYzAbCdEfGhIjKlMnOpQr';
const STRIPE_RESTRICTED = 'rk_test_51H8xYzAbCdEfGhIjKlMnOpQr';
const STRIPE_WEBHOOK = 'whsec_AbCdEfGhIjKlMnOpQrStUvWxYz012345';
const SENDGRID = 'SG.AbCdEfGhIjKlMnOpQrStUv.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG';
const NPM = 'npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
const HUGGINGFACE = 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const PEM_BODY =
  'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2ZlWxMTmj4N7sf0pR7Rm\nq0H6FCvA2Fh0iHU2p8wPKvrrT4tMsYIZqHnV8xkqAv+5tsbQ==';

interface Case {
  readonly name: string;
  readonly input: string;
  readonly expected: string;
  readonly secrets: readonly string[];
  readonly kinds: Readonly<Record<string, number>>;
}

const PLANTED: readonly Case[] = [
  {
    name: 'OpenAI legacy key in prose',
    input: `calling model with key ${OPENAI_LEGACY} failed`,
    expected: 'calling model with key [REDACTED:openai-key] failed',
    secrets: [OPENAI_LEGACY],
    kinds: { 'openai-key': 1 },
  },
  {
    name: 'OpenAI project key in env',
    input: `OPENAI_API_KEY=${OPENAI_PROJECT}`,
    expected: 'OPENAI_API_KEY=[REDACTED:openai-key]',
    secrets: [OPENAI_PROJECT],
    kinds: { 'openai-key': 1 },
  },
  {
    name: 'Anthropic key in JSON',
    input: `{"provider":"anthropic","key":"${ANTHROPIC}"}`,
    expected: '{"provider":"anthropic","key":"[REDACTED:anthropic-key]"}',
    secrets: [ANTHROPIC],
    kinds: { 'anthropic-key': 1 },
  },
  {
    name: 'AWS access key id',
    input: `assumed role with ${AWS_KEY_ID} in us-east-1`,
    expected: 'assumed role with [REDACTED:aws-access-key-id] in us-east-1',
    secrets: [AWS_KEY_ID],
    kinds: { 'aws-access-key-id': 1 },
  },
  {
    name: 'AWS temporary key id and secret key in an env file',
    input: `AWS_ACCESS_KEY_ID=${AWS_TEMP_KEY_ID}\nAWS_SECRET_ACCESS_KEY=${AWS_SECRET}`,
    expected:
      'AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id]\nAWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-key]',
    secrets: [AWS_TEMP_KEY_ID, AWS_SECRET],
    kinds: { 'aws-access-key-id': 1, 'aws-secret-key': 1 },
  },
  {
    name: 'AWS secret key in YAML',
    input: `aws_secret_access_key: ${AWS_SECRET}`,
    expected: 'aws_secret_access_key: [REDACTED:aws-secret-key]',
    secrets: [AWS_SECRET],
    kinds: { 'aws-secret-key': 1 },
  },
  {
    name: 'GCP API key in a query string',
    input: `GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key=${GCP_KEY} 403`,
    expected:
      'GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key=[REDACTED:gcp-api-key] 403',
    secrets: [GCP_KEY],
    kinds: { 'gcp-api-key': 1 },
  },
  {
    name: 'Google OAuth access token',
    input: `token refresh returned ${GOOGLE_OAUTH}`,
    expected: 'token refresh returned [REDACTED:google-oauth-token]',
    secrets: [GOOGLE_OAUTH],
    kinds: { 'google-oauth-token': 1 },
  },
  {
    name: 'GCP service-account private key (escaped newlines in JSON)',
    input: `{"type":"service_account","private_key_id":"abc123","private_key":"-----BEGIN PRIVATE KEY-----\\n${PEM_BODY.replace('\n', '\\n')}\\n-----END PRIVATE KEY-----\\n"}`,
    expected:
      '{"type":"service_account","private_key_id":"abc123","private_key":"[REDACTED:private-key]\\n"}',
    secrets: ['MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2ZlWxMTmj4N7sf0pR7Rm'],
    kinds: { 'private-key': 1 },
  },
  {
    name: 'Azure storage connection string',
    input: `DefaultEndpointsProtocol=https;AccountName=shopstore;AccountKey=${AZURE_ACCOUNT_KEY};EndpointSuffix=core.windows.net`,
    expected:
      'DefaultEndpointsProtocol=https;AccountName=shopstore;AccountKey=[REDACTED:azure-key];EndpointSuffix=core.windows.net',
    secrets: [AZURE_ACCOUNT_KEY],
    kinds: { 'azure-key': 1 },
  },
  {
    name: 'Azure Service Bus connection string',
    input:
      'Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=q8Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE+d=',
    expected:
      'Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=[REDACTED:azure-key]',
    secrets: ['q8Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE+d='],
    kinds: { 'azure-key': 1 },
  },
  {
    name: 'Azure SAS signature',
    input:
      'PUT https://shopstore.blob.core.windows.net/c/b?sv=2022-11-02&sp=rw&sig=Xy9zK2mN4pQ6rS8tU0vW%2BaBcD%3D failed',
    expected:
      'PUT https://shopstore.blob.core.windows.net/c/b?sv=2022-11-02&sp=rw&sig=[REDACTED:signature] failed',
    secrets: ['Xy9zK2mN4pQ6rS8tU0vW%2BaBcD%3D'],
    kinds: { signature: 1 },
  },
  {
    name: 'Azure AD client secret',
    input: `msal: confidential client with ${AZURE_CLIENT_SECRET} rejected`,
    expected: 'msal: confidential client with [REDACTED:azure-client-secret] rejected',
    secrets: [AZURE_CLIENT_SECRET],
    kinds: { 'azure-client-secret': 1 },
  },
  {
    name: 'GitHub personal access token in a clone URL',
    input: `git clone https://x-access-token:${GITHUB_PAT}@github.com/org/repo.git`,
    expected: 'git clone https://x-access-token:[REDACTED:github-token]@github.com/org/repo.git',
    secrets: [GITHUB_PAT],
    kinds: { 'github-token': 1 },
  },
  {
    name: 'GitHub OAuth and fine-grained tokens',
    input: `tokens ${GITHUB_OAUTH} and ${GITHUB_FINE}`,
    expected: 'tokens [REDACTED:github-token] and [REDACTED:github-token]',
    secrets: [GITHUB_OAUTH, GITHUB_FINE],
    kinds: { 'github-token': 2 },
  },
  {
    name: 'GitLab token in a header',
    input: `PRIVATE-TOKEN: ${GITLAB}`,
    expected: 'PRIVATE-TOKEN: [REDACTED:gitlab-token]',
    secrets: [GITLAB],
    kinds: { 'gitlab-token': 1 },
  },
  {
    name: 'Slack bot token',
    input: `slack api auth.test with ${SLACK_BOT}: invalid_auth`,
    expected: 'slack api auth.test with [REDACTED:slack-token]: invalid_auth',
    secrets: [SLACK_BOT],
    kinds: { 'slack-token': 1 },
  },
  {
    name: 'Slack webhook',
    input: `POST ${SLACK_HOOK} returned 404`,
    expected: 'POST https://hooks.slack.com/[REDACTED:slack-webhook] returned 404',
    secrets: ['T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'],
    kinds: { 'slack-webhook': 1 },
  },
  {
    name: 'Discord webhook',
    input:
      'alert sent to https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOp_qrstuvwxyz-0123',
    expected: 'alert sent to https://discord.com/api/webhooks/[REDACTED:webhook]',
    secrets: ['AbCdEfGhIjKlMnOp_qrstuvwxyz-0123'],
    kinds: { webhook: 1 },
  },
  {
    name: 'Stripe live and restricted keys',
    input: `stripe: ${STRIPE_LIVE} / ${STRIPE_RESTRICTED}`,
    expected: 'stripe: [REDACTED:stripe-key] / [REDACTED:stripe-key]',
    secrets: [STRIPE_LIVE, STRIPE_RESTRICTED],
    kinds: { 'stripe-key': 2 },
  },
  {
    name: 'Stripe webhook secret',
    input: `STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK}`,
    expected: 'STRIPE_WEBHOOK_SECRET=[REDACTED:stripe-key]',
    secrets: [STRIPE_WEBHOOK],
    kinds: { 'stripe-key': 1 },
  },
  {
    name: 'SendGrid, npm and Hugging Face tokens',
    input: `${SENDGRID} ${NPM} ${HUGGINGFACE}`,
    expected: '[REDACTED:sendgrid-key] [REDACTED:npm-token] [REDACTED:huggingface-token]',
    secrets: [SENDGRID, NPM, HUGGINGFACE],
    kinds: { 'huggingface-token': 1, 'npm-token': 1, 'sendgrid-key': 1 },
  },
  {
    name: 'JWT in an Authorization header',
    input: `Authorization: Bearer ${JWT}`,
    expected: 'Authorization: Bearer [REDACTED:jwt]',
    secrets: [JWT],
    kinds: { jwt: 1 },
  },
  {
    name: 'JWT in a cookie-less log line',
    input: `level=warn msg="expired session" session=${JWT}`,
    expected: 'level=warn msg="expired session" session=[REDACTED:jwt]',
    secrets: [JWT],
    kinds: { jwt: 1 },
  },
  {
    name: 'RSA private key (PEM, multi-line)',
    input: `key file:\n-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----\nloaded`,
    expected: 'key file:\n[REDACTED:private-key]\nloaded',
    secrets: [
      'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2ZlWxMTmj4N7sf0pR7Rm',
      'q0H6FCvA2Fh0iHU2p8wPKvrrT4tMsYIZqHnV8xkqAv',
    ],
    kinds: { 'private-key': 1 },
  },
  {
    name: 'OpenSSH private key',
    input: `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----`,
    expected: '[REDACTED:private-key]',
    secrets: ['b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'],
    kinds: { 'private-key': 1 },
  },
  {
    name: 'encrypted private key with headers, cut short by a log excerpt',
    input:
      '-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B2C\nMHcCAQEEIBkg4LVWM9nuwNSk',
    expected: '[REDACTED:private-key]',
    secrets: ['MHcCAQEEIBkg4LVWM9nuwNSk'],
    kinds: { 'private-key': 1 },
  },
  {
    name: 'credentials in an https URL',
    input: 'pulling https://admin:s3cr3t-P4ss@registry.example.com/v2/shop/api/manifests/1.4.2',
    expected: 'pulling https://[REDACTED:url-credentials]@registry.example.com/v2/shop/api/manifests/1.4.2',
    secrets: ['s3cr3t-P4ss'],
    kinds: { 'url-credentials': 1 },
  },
  {
    name: 'postgres URL with an @ in the password',
    input: 'dial postgres://app:p@ss:w0rd@db.shop.svc:5432/orders?sslmode=disable: timeout',
    expected: 'dial postgres://[REDACTED:db-credentials]@db.shop.svc:5432/orders?sslmode=disable: timeout',
    secrets: ['p@ss:w0rd'],
    kinds: { 'db-credentials': 1 },
  },
  {
    name: 'mysql, mongodb+srv, redis and amqp URLs',
    input:
      'mysql://root:toorPW@mysql:3306/shop mongodb+srv://svc:M0ngoPw@cluster0.ab1cd.mongodb.net/db redis://:r3disPw@redis:6379/0 amqp://guest:guestPw1@rabbit:5672/',
    expected:
      'mysql://[REDACTED:db-credentials]@mysql:3306/shop mongodb+srv://[REDACTED:db-credentials]@cluster0.ab1cd.mongodb.net/db redis://[REDACTED:db-credentials]@redis:6379/0 amqp://[REDACTED:db-credentials]@rabbit:5672/',
    secrets: ['toorPW', 'M0ngoPw', 'r3disPw', 'guestPw1'],
    kinds: { 'db-credentials': 4 },
  },
  {
    name: 'libpq keyword connection string',
    input: 'connecting with "host=db.shop.svc port=5432 user=app password=Pg-Pa55 dbname=orders"',
    expected:
      'connecting with "host=db.shop.svc port=5432 user=app password=[REDACTED:password] dbname=orders"',
    secrets: ['Pg-Pa55'],
    kinds: { password: 1 },
  },
  {
    name: 'JDBC SQL Server connection string',
    input: 'jdbc:sqlserver://db:1433;databaseName=shop;user=sa;password=Passw0rd!;encrypt=true',
    expected: 'jdbc:sqlserver://db:1433;databaseName=shop;user=sa;password=[REDACTED:password];encrypt=true',
    secrets: ['Passw0rd!'],
    kinds: { password: 1 },
  },
  {
    name: 'Basic Authorization header',
    input: 'Authorization: Basic YWRtaW46aHVudGVyMg==',
    expected: 'Authorization: Basic [REDACTED:authorization]',
    secrets: ['YWRtaW46aHVudGVyMg=='],
    kinds: { authorization: 1 },
  },
  {
    name: 'opaque bearer token in a JSON headers map',
    input: '{"headers":{"authorization":"Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0","accept":"*/*"}}',
    expected: '{"headers":{"authorization":"Bearer [REDACTED:authorization]","accept":"*/*"}}',
    secrets: ['9f8e7d6c5b4a39281706f5e4d3c2b1a0'],
    kinds: { authorization: 1 },
  },
  {
    name: 'X-Api-Key header',
    input: 'x-api-key: 5f4dcc3b5aa765d61d8327deb882cf99',
    expected: 'x-api-key: [REDACTED:authorization]',
    secrets: ['5f4dcc3b5aa765d61d8327deb882cf99'],
    kinds: { authorization: 1 },
  },
  {
    name: 'bare bearer token in prose',
    input: 'upstream rejected Bearer 0123456789abcdefXYZ with 401',
    expected: 'upstream rejected Bearer [REDACTED:bearer-token] with 401',
    secrets: ['0123456789abcdefXYZ'],
    kinds: { 'bearer-token': 1 },
  },
  {
    name: 'Cookie and Set-Cookie headers',
    input: 'Cookie: session=9b2c1d0e8f; csrftoken=Zx81\nSet-Cookie: sid=AbC123xyz; HttpOnly; Secure',
    expected: 'Cookie: [REDACTED:cookie]\nSet-Cookie: [REDACTED:cookie]',
    secrets: ['9b2c1d0e8f', 'Zx81', 'AbC123xyz'],
    kinds: { cookie: 2 },
  },
  {
    name: 'password= in logfmt',
    input: 'level=error msg="login failed" user=bob password=hunter2 attempt=3',
    expected: 'level=error msg="login failed" user=bob password=[REDACTED:password] attempt=3',
    secrets: ['hunter2'],
    kinds: { password: 1 },
  },
  {
    name: 'quoted DB_PASSWORD in an env file',
    input: 'DB_PASSWORD="correct horse battery staple"',
    expected: 'DB_PASSWORD="[REDACTED:password]"',
    secrets: ['correct horse battery staple'],
    kinds: { password: 1 },
  },
  {
    name: 'password in a JSON log line',
    input: '{"level":"info","msg":"config loaded","db":{"user":"app","password":"s3cr3t!"}}',
    expected: '{"level":"info","msg":"config loaded","db":{"user":"app","password":"[REDACTED:password]"}}',
    secrets: ['s3cr3t!'],
    kinds: { password: 1 },
  },
  {
    name: 'password in YAML (short value)',
    input: 'spring:\n  datasource:\n    password: tiger',
    expected: 'spring:\n  datasource:\n    password: [REDACTED:password]',
    secrets: ['tiger'],
    kinds: { password: 1 },
  },
  {
    name: 'dotted Java property',
    input: 'spring.datasource.password=OracleTiger9',
    expected: 'spring.datasource.password=[REDACTED:password]',
    secrets: ['OracleTiger9'],
    kinds: { password: 1 },
  },
  {
    name: 'command-line flag',
    input: 'exec: mysqldump --user=root --password=Dump3r! shop',
    expected: 'exec: mysqldump --user=root --password=[REDACTED:password] shop',
    secrets: ['Dump3r!'],
    kinds: { password: 1 },
  },
  {
    name: 'client_secret and api_key in a query string',
    input:
      'POST /oauth/token?client_id=shop&client_secret=c5e1fa0b7d&api_key=k-123abc&grant_type=client_credentials',
    expected:
      'POST /oauth/token?client_id=shop&client_secret=[REDACTED:secret]&api_key=[REDACTED:api-key]&grant_type=client_credentials',
    secrets: ['c5e1fa0b7d', 'k-123abc'],
    kinds: { 'api-key': 1, secret: 1 },
  },
  {
    name: 'access_token in a callback URL',
    input: 'redirect to https://shop.example.com/cb#state=1&access_token=at-998877665544&expires_in=3600',
    expected: 'redirect to https://shop.example.com/cb#state=1&access_token=[REDACTED:token]&expires_in=3600',
    secrets: ['at-998877665544'],
    kinds: { token: 1 },
  },
  {
    name: 'single-quoted token in YAML',
    input: "auth_token: 'tok_live_4eC39HqLyjWDarjtT1zdp7dc'",
    expected: "auth_token: '[REDACTED:token]'",
    secrets: ['tok_live_4eC39HqLyjWDarjtT1zdp7dc'],
    kinds: { token: 1 },
  },
  {
    name: 'apiKey in camelCase JSON',
    input: '{"apiKey":"f3a9c2e1d4b5a6978877","region":"eu"}',
    expected: '{"apiKey":"[REDACTED:api-key]","region":"eu"}',
    secrets: ['f3a9c2e1d4b5a6978877'],
    kinds: { 'api-key': 1 },
  },
  {
    name: 'escaped JSON inside a JSON message',
    input: '{"msg":"request body {\\"username\\":\\"bob\\",\\"password\\":\\"Esc4ped!\\"}"}',
    expected: '{"msg":"request body {\\"username\\":\\"bob\\",\\"password\\":\\"[REDACTED:password]\\"}"}',
    secrets: ['Esc4ped!'],
    kinds: { password: 1 },
  },
  {
    name: 'generic secret= with a long value',
    input: 'WEBHOOK_SECRET=9c1185a5c5e9fc54612808977ee8f548b2258d31',
    expected: 'WEBHOOK_SECRET=[REDACTED:secret]',
    secrets: ['9c1185a5c5e9fc54612808977ee8f548b2258d31'],
    kinds: { secret: 1 },
  },
  {
    name: 'Kubernetes Secret manifest (YAML, kubectl order)',
    input:
      'apiVersion: v1\ndata:\n  password: aHVudGVyMg==\n  username: YWRtaW4=\nkind: Secret\nmetadata:\n  name: db-creds\n  namespace: shop\ntype: Opaque',
    expected:
      'apiVersion: v1\ndata:\n  password: [REDACTED:k8s-secret]\n  username: [REDACTED:k8s-secret]\nkind: Secret\nmetadata:\n  name: db-creds\n  namespace: shop\ntype: Opaque',
    secrets: ['aHVudGVyMg==', 'YWRtaW4='],
    kinds: { 'k8s-secret': 2 },
  },
  {
    name: 'Kubernetes Secret with a stringData block scalar',
    input:
      'kind: Secret\nstringData:\n  config.yaml: |\n    user: app\n    pass: Bl0ckScalar\n  token: plain-9\n---\nkind: ConfigMap\ndata:\n  LOG_LEVEL: debug',
    expected:
      'kind: Secret\nstringData:\n  config.yaml: |\n    [REDACTED:k8s-secret]\n    [REDACTED:k8s-secret]\n  token: [REDACTED:k8s-secret]\n---\nkind: ConfigMap\ndata:\n  LOG_LEVEL: debug',
    secrets: ['Bl0ckScalar', 'plain-9'],
    kinds: { 'k8s-secret': 2 },
  },
  {
    name: 'Kubernetes Secret object (JSON)',
    input:
      '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"api-keys"},"data":{"stripe":"c2tfbGl2ZV94eHg=","sentry":"ZHNuLXh4eA=="},"type":"Opaque"}',
    expected:
      '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"api-keys"},"data":{"stripe":"[REDACTED:k8s-secret]","sentry":"[REDACTED:k8s-secret]"},"type":"Opaque"}',
    secrets: ['c2tfbGl2ZV94eHg=', 'ZHNuLXh4eA=='],
    kinds: { 'k8s-secret': 2 },
  },
  {
    name: 'literal env value of a secret-named variable (pod spec JSON)',
    input:
      '{"env":[{"name":"LOG_LEVEL","value":"info"},{"name":"STRIPE_API_KEY","value":"plain-literal-1"}]}',
    expected:
      '{"env":[{"name":"LOG_LEVEL","value":"info"},{"name":"STRIPE_API_KEY","value":"[REDACTED:env-secret]"}]}',
    secrets: ['plain-literal-1'],
    kinds: { 'env-secret': 1 },
  },
  {
    name: 'literal env value of a secret-named variable (pod spec YAML)',
    input: 'env:\n- name: REDIS_PASSWORD\n  value: "yaml-literal-2"\n- name: PORT\n  value: "8080"',
    expected: 'env:\n- name: REDIS_PASSWORD\n  value: [REDACTED:env-secret]\n- name: PORT\n  value: "8080"',
    secrets: ['yaml-literal-2'],
    kinds: { 'env-secret': 1 },
  },
];

const NON_SECRETS: readonly string[] = [
  'pulled registry.example.com/shop/api@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  'image: ghcr.io/acme/worker:1.4.2@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'request_id=3f1c2a4e-8b7d-4c1e-9f2a-6d5e4c3b2a10 trace_id=4bf92f3577b34da6a3ce929d0e0e4736',
  'GET https://api.example.com/v1/orders?id=42&page=2 200 12ms',
  'dial tcp postgres://db.shop.svc.cluster.local:5432/orders: connection refused',
  'fetching https://git@github.com/org/repo.git and ssh://git@github.com:22/org/repo',
  'redis://redis.shop.svc:6379/0 is up',
  'host=db.internal port=5432 user=app dbname=orders sslmode=require',
  'max_tokens=4096 token_count=17 tokenizer: bert-base-uncased',
  'volumes:\n- name: creds\n  secret:\n    secretName: db-credentials',
  'env:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: db-credentials\n      key: password',
  'password reset requested for user alice@example.com',
  'token expired for session 12; token: expired',
  'auth: required, Authorization failed for user bob',
  'commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39 deployed',
  'pod shop/sk-learn-worker-7d9f8c6b5-x2abc restarted (task-abcdefghijklmnopqrstuvwxyz0123456789)',
  '2026-11-26T08:00:31.250Z ERROR connection refused 10.0.3.7:5432 [2001:db8::1]:8080',
  'selector:\n  matchLabels:\n    key: app.kubernetes.io/name',
  'kind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n  FEATURE_FLAGS: a,b',
  'payload dGhpcyBpcyBub3QgYSBzZWNyZXQ= decoded',
  'the bearer authentication scheme is required',
  'private_key_id=abc123 fingerprint=SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
  'BEGIN transaction; -----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----',
  'tls_secret: my-tls, secretRef: app-env, PWD=/home/app',
];

describe('redact: planted secrets', () => {
  it.each(PLANTED.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = redact(c.input);
    expect(result.text).toBe(c.expected);
    expect(Object.fromEntries(result.findings.map((f) => [f.kind, f.count]))).toEqual(c.kinds);
    for (const secret of c.secrets) expect(result.text).not.toContain(secret);
  });

  it('covers 69 secrets of 31 kinds in 54 texts', () => {
    const secrets = PLANTED.reduce((n, c) => n + c.secrets.length, 0);
    const kinds = new Set(PLANTED.flatMap((c) => Object.keys(c.kinds)));
    expect([secrets, kinds.size, PLANTED.length]).toEqual([69, 31, 54]);
  });

  it('finds every planted secret in one long text, and counts each once', () => {
    const text = PLANTED.map((c) => c.input).join('\n---\n');
    const result = redact(text);
    for (const c of PLANTED) for (const secret of c.secrets) expect(result.text).not.toContain(secret);
    const expected = new Map<string, number>();
    for (const c of PLANTED)
      for (const [k, n] of Object.entries(c.kinds)) expected.set(k, (expected.get(k) ?? 0) + n);
    expect(Object.fromEntries(result.findings.map((f) => [f.kind, f.count]))).toEqual(
      Object.fromEntries(expected),
    );
  });

  it('is idempotent: redacting redacted text changes nothing', () => {
    for (const c of PLANTED) {
      const again = redact(c.expected);
      expect(again.text, c.name).toBe(c.expected);
      expect(again.findings, c.name).toEqual([]);
    }
  });

  it('lists findings sorted by kind', () => {
    expect(redact(`password=x1 ${JWT} ${AWS_KEY_ID} password=x2`).findings).toEqual([
      { kind: 'aws-access-key-id', count: 1 },
      { kind: 'jwt', count: 1 },
      { kind: 'password', count: 2 },
    ]);
  });
});

describe('redact: what is not a secret survives unchanged', () => {
  it.each(NON_SECRETS.map((t) => [t] as const))('%s', (text) => {
    expect(redact(text)).toEqual({ text, findings: [] });
  });
});

describe('redact: linear time on adversarial input', () => {
  const MiB = 1 << 20;
  const fill = (unit: string): string => unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);

  it.each([
    ['one long word', fill('a')],
    ['JWT prefixes without dots', fill('eyJ')],
    ['URL schemes without credentials', fill('a://a:')],
    ['name=value pairs that are not secrets', fill('a=')],
    ['unterminated quotes', fill('"')],
    ['escaped quotes', fill('\\"')],
    ['key prefixes without a key', fill('sk-')],
    ['header names without values', fill('cookie')],
    ['bearer words', fill('Bearer ')],
    ['spaces', fill(' ')],
    ['dashes', fill('-a')],
  ])('%s (1 MiB) comes back unchanged', (_name, text) => {
    const result = redact(text);
    expect(result.text.length).toBe(MiB);
    expect(result.text === text).toBe(true);
    expect(result.findings).toEqual([]);
  });

  it('an unterminated private key swallows the rest of a 1 MiB text', () => {
    const result = redact('-----BEGIN PRIVATE KEY-----' + fill('A'));
    expect(result).toEqual({ text: '[REDACTED:private-key]', findings: [{ kind: 'private-key', count: 1 }] });
  });

  it('1 MiB of repeated BEGIN lines is one key per line', () => {
    const unit = '-----BEGIN PRIVATE KEY-----';
    const n = Math.floor(MiB / unit.length);
    const result = redact(unit.repeat(n));
    expect(result.findings).toEqual([{ kind: 'private-key', count: n }]);
    expect(result.text).toBe('[REDACTED:private-key]'.repeat(n));
  });

  it('1 MiB of password= pairs is redacted value by value', () => {
    const text = fill('password=x ');
    const result = redact(text);
    const n = Math.floor(MiB / 'password=x '.length); // the last, partial unit is `p`
    expect(result.findings).toEqual([{ kind: 'password', count: n }]);
    expect(result.text.startsWith('password=[REDACTED:password] password=[REDACTED:password] ')).toBe(true);
  });

  it('a key of 1 MiB is one finding', () => {
    const result = redact('sk-' + fill('a'));
    expect(result).toEqual({ text: '[REDACTED:openai-key]', findings: [{ kind: 'openai-key', count: 1 }] });
  });

  it('a Secret manifest with 1 MiB of data lines', () => {
    const lines = Math.floor(MiB / '  k: v\n'.length);
    const result = redact('kind: Secret\ndata:\n' + '  k: v\n'.repeat(lines));
    expect(result.findings).toEqual([{ kind: 'k8s-secret', count: lines }]);
    expect(result.text).toBe('kind: Secret\ndata:\n' + '  k: [REDACTED:k8s-secret]\n'.repeat(lines));
  });
});

describe('secretNameKind', () => {
  it.each([
    ['DB_PASSWORD', 'password'],
    ['passwd', 'password'],
    ['MYSQL_PWD', 'password'],
    ['PWD', null],
    ['client_secret', 'secret'],
    ['AWS_SECRET', 'aws-secret-key'],
    ['aws_secret_access_key', 'aws-secret-key'],
    ['apiKey', 'api-key'],
    ['X-API-KEY', 'api-key'],
    ['APIKEY', 'api-key'],
    ['AccountKey', 'azure-key'],
    ['refresh_token', 'token'],
    ['credentials', 'credential'],
    ['X-Amz-Signature', 'signature'],
    ['secretName', null],
    ['token_count', null],
    ['max_tokens', null],
    ['key', null],
    ['private_key_id', null],
    ['faultKey', null],
  ] as const)('%s → %s', (name, kind) => {
    expect(secretNameKind(name)).toBe(kind);
  });
});

describe('redactValue', () => {
  it('redacts every string, secret-named keys, env entries and Secret data, and keeps other scalars', () => {
    const input = {
      offset: 9_223_372_036_854_775_807n,
      count: 3,
      ok: true,
      lines: [`Authorization: Bearer ${JWT}`, 'all good'],
      config: { password: 'plain', token: 'abc', tokenizer: 'bert', secretName: 'db' },
      env: [
        { name: 'API_TOKEN', value: 'env-literal' },
        { name: 'PORT', value: '8080' },
      ],
      secret: { kind: 'Secret', data: { a: 'YQ==', b: 'Yg==' }, metadata: { name: 'x' } },
    };
    const before = structuredClone(input);
    const { value, findings } = redactValue(input);
    expect(value).toEqual({
      offset: 9_223_372_036_854_775_807n,
      count: 3,
      ok: true,
      lines: ['Authorization: Bearer [REDACTED:jwt]', 'all good'],
      config: {
        password: '[REDACTED:password]',
        token: '[REDACTED:token]',
        tokenizer: 'bert',
        secretName: 'db',
      },
      env: [
        { name: 'API_TOKEN', value: '[REDACTED:env-secret]' },
        { name: 'PORT', value: '8080' },
      ],
      secret: {
        kind: 'Secret',
        data: { a: '[REDACTED:k8s-secret]', b: '[REDACTED:k8s-secret]' },
        metadata: { name: 'x' },
      },
    });
    expect(findings).toEqual([
      { kind: 'env-secret', count: 1 },
      { kind: 'jwt', count: 1 },
      { kind: 'k8s-secret', count: 2 },
      { kind: 'password', count: 1 },
      { kind: 'token', count: 1 },
    ]);
    expect(input).toEqual(before);
  });

  it('walks record instances (as a decoder builds them), not only plain objects', () => {
    class Evidence {
      excerpt: string;
      ts: number;
      constructor(excerpt: string, ts: number) {
        this.excerpt = excerpt;
        this.ts = ts;
      }
    }
    const { value, findings } = redactValue({ evidence: [new Evidence('password=hunter2', 5)] });
    expect(value).toEqual({ evidence: [{ excerpt: 'password=[REDACTED:password]', ts: 5 }] });
    expect(findings).toEqual([{ kind: 'password', count: 1 }]);
  });
});
