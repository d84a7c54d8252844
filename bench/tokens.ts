/**
 * Real access tokens for the bench, cheaply: client-credentials grants of one
 * service user at the local ZITADEL's token endpoint, a few in parallel.
 */
import type { LocalZitadel } from '../lib/testing';

/** Parallel token requests; the issuer shares the machine's two cores. */
const PARALLEL = 8;

/**
 * Mints `count` distinct tokens that introspect active for the project's API
 * app, with roles and the resource owner, as a ZITADEL service user would ask.
 *
 * @example
 * ```ts
 * const tokens = await mintTokens(zitadel, 10_000);
 * ```
 */
export async function mintTokens(zitadel: LocalZitadel, count: number): Promise<string[]> {
  const { clientId, clientSecret } = await zitadel.createServiceUser({
    name: 'bench-caller',
    roles: { reader: ['bench-org'] },
    auth: 'secret',
  });
  const authorization = `Basic ${Buffer.from(
    `${encodeURIComponent(clientId!)}:${encodeURIComponent(clientSecret!)}`,
  ).toString('base64')}`;
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    scope: [
      'openid',
      `urn:zitadel:iam:org:project:id:${zitadel.projectId}:aud`,
      'urn:zitadel:iam:org:projects:roles',
      'urn:zitadel:iam:user:resourceowner',
    ].join(' '),
  }).toString();

  const tokens: string[] = [];
  const worker = async () => {
    while (tokens.length < count) {
      tokens.push(''); // claim a slot before awaiting, so the workers stop at `count`
      const slot = tokens.length - 1;
      tokens[slot] = await requestToken(`${zitadel.issuer}/oauth/v2/token`, authorization, body);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  if (new Set(tokens).size !== count) throw new Error('the token endpoint repeated a token');
  return tokens;
}

async function requestToken(url: string, authorization: string, body: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const json = (await response.json()) as { access_token?: string; error?: string };
  if (response.status !== 200 || typeof json.access_token !== 'string') {
    throw new Error(`token endpoint answered ${response.status} ${json.error ?? ''}`);
  }
  return json.access_token;
}
