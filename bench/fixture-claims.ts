/**
 * The claims of a ZITADEL introspection answer for a service user, as in
 * /work/shared/fixtures/introspection-active-service-user.json (copied here
 * so the bench runs from a clone of the repository alone).
 */

/**
 * The active answer the heap measurement caches (sub, jti and exp vary per entry).
 *
 * @example
 * ```ts
 * const claims = { ...SERVICE_USER_CLAIMS, sub: 'svc-2', jti: 'j-2' };
 * ```
 */
export const SERVICE_USER_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({
  active: true,
  scope:
    'openid profile urn:zitadel:iam:org:project:id:301255683459087361:aud urn:zitadel:iam:org:projects:roles urn:zitadel:iam:user:resourceowner',
  client_id: '301255944417345537',
  token_type: 'Bearer',
  exp: 1795500000,
  iat: 1795456800,
  nbf: 1795456800,
  sub: '301255944417345537',
  aud: ['301255944417345537', '301255683459087361'],
  iss: 'https://acme-4tbz9q.zitadel.cloud',
  jti: 'V2_301260000000000001-at_301260000000000002',
  username: 'invoice-worker',
  name: 'Invoice worker',
  preferred_username: 'invoice-worker',
  updated_at: 1795400000,
  'urn:zitadel:iam:user:resourceowner:id': '301255600000000001',
  'urn:zitadel:iam:user:resourceowner:name': 'Acme',
  'urn:zitadel:iam:user:resourceowner:primary_domain': 'acme.acme-4tbz9q.zitadel.cloud',
  'urn:zitadel:iam:org:project:roles': {
    reader: { '301255600000000001': 'acme.acme-4tbz9q.zitadel.cloud' },
    'billing-admin': {
      '301255600000000001': 'acme.acme-4tbz9q.zitadel.cloud',
      '301255600000000777': 'globex.acme-4tbz9q.zitadel.cloud',
    },
  },
  'urn:zitadel:iam:org:project:301255683459087361:roles': {
    reader: { '301255600000000001': 'acme.acme-4tbz9q.zitadel.cloud' },
    'billing-admin': {
      '301255600000000001': 'acme.acme-4tbz9q.zitadel.cloud',
      '301255600000000777': 'globex.acme-4tbz9q.zitadel.cloud',
    },
  },
});
