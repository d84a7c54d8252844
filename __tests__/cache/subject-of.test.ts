/**
 * Whose answer an introspection is (the subject evictSubject matches): `sub`,
 * else the client id of a client-credentials token, else nobody.
 */
import { subjectOf } from '../../lib/cache/stored-answer';

it.each([
  [{ active: true, sub: 'user-1', client_id: 'svc' }, 'user-1'],
  [{ active: true, sub: '', client_id: 'svc' }, 'svc'],
  [{ active: true, client_id: 'svc' }, 'svc'],
  [{ active: true, client_id: 42 }, ''],
  [{ active: true }, ''],
])('%j belongs to %p', (claims, subject) => {
  expect(subjectOf(claims)).toBe(subject);
});
