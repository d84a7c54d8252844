/**
 * The reason code and status of a refusal, from the error the middleware or
 * a guard passes to `next()`: the tag set where it was thrown, else its class.
 */
import {
  ConfigError,
  InsufficientScopeError,
  IntrospectionUnavailableError,
  InvalidRequestError,
  InvalidTokenError,
  UnauthorizedError,
} from '../../lib/errors';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import type { DecisionEvent } from '../../lib/telemetry/channels';
import {
  publishAnonymous,
  publishGrant,
  publishRefusal,
  reasonOf,
  sourceOf,
  withReason,
  withSource,
} from '../../lib/telemetry/decision';

it.each([
  [new UnauthorizedError(), 'no_token'],
  [new InvalidRequestError(), 'malformed'],
  [new InvalidTokenError(), 'inactive'],
  [new InsufficientScopeError(), 'missing_scope'],
  [new IntrospectionUnavailableError(), 'unavailable'],
  [new ConfigError(), 'config'],
  [new Error('a getToken that throws'), 'config'],
  [undefined, 'config'],
])('%s → %s', (error, reason) => {
  expect(reasonOf(error)).toBe(reason);
});

it('a tag wins over the class, and stays out of logs and equality', () => {
  const error = withReason(new IntrospectionUnavailableError('too many'), 'shed');
  expect(reasonOf(error)).toBe('shed');
  expect(Object.keys(error)).not.toContain('shed');
  expect(inspect(error)).not.toContain('shed');
  // Tagged twice (a rethrow) keeps the last word.
  expect(reasonOf(withReason(error, 'circuit_open'))).toBe('circuit_open');
});

it('an answer without a mark came from memory; a mark is invisible to JSON and equality', () => {
  expect(sourceOf({ active: false })).toBe('memory');
  const info = withSource({ active: false, reason: 'inactive' }, 'introspection');
  expect(sourceOf(info)).toBe('introspection');
  expect(info).toEqual({ active: false, reason: 'inactive' });
  expect(JSON.stringify(info)).toBe('{"active":false,"reason":"inactive"}');
});

it('the status of a refusal: the AuthError status, an http-errors status, else 500', () => {
  const seen: DecisionEvent[] = [];
  const listener = (event: unknown) => seen.push(event as DecisionEvent);
  subscribe('express-zitadel-introspection:decision', listener);
  try {
    publishRefusal('authenticate', undefined, new InvalidRequestError());
    publishRefusal('authenticate', undefined, Object.assign(new Error('teapot'), { status: 418 }));
    publishRefusal('authenticate', undefined, Object.assign(new Error('odd'), { status: 200 }));
    publishRefusal('authorize', { startedAt: performance.now(), source: 'store' }, new Error('x'));
  } finally {
    unsubscribe('express-zitadel-introspection:decision', listener);
  }
  expect(seen.map((event) => [event.status, event.reason, event.source])).toEqual([
    [400, 'malformed', 'none'],
    [418, 'config', 'none'],
    [500, 'config', 'none'],
    [500, 'config', 'store'],
  ]);
  expect(seen[0].durationMs).toBe(0);
  expect(seen[3].durationMs).toBeGreaterThanOrEqual(0);
  // No property is added after the literal: the keys come in one order.
  expect(Object.keys(seen[0])).toEqual([
    'stage',
    'outcome',
    'status',
    'reason',
    'source',
    'durationMs',
  ]);
});

it('a refusal with a subject, an anonymous pass: one literal each, documented keys only', () => {
  const seen: DecisionEvent[] = [];
  const listener = (event: unknown) => seen.push(event as DecisionEvent);
  subscribe('express-zitadel-introspection:decision', listener);
  try {
    const timing = { startedAt: performance.now(), source: 'memory' as const };
    publishRefusal('authorize', timing, new InsufficientScopeError(), 'missing_role', 'svc-1');
    publishAnonymous({ startedAt: undefined });
    publishGrant({ startedAt: performance.now() }, 'svc-2');
  } finally {
    unsubscribe('express-zitadel-introspection:decision', listener);
  }
  expect(seen.map((event) => Object.keys(event))).toEqual([
    ['stage', 'outcome', 'status', 'reason', 'source', 'subject', 'durationMs'],
    ['stage', 'outcome', 'status', 'source', 'durationMs'],
    ['stage', 'outcome', 'status', 'source', 'subject', 'durationMs'],
  ]);
  expect(seen[0]).toMatchObject({ stage: 'authorize', status: 403, subject: 'svc-1' });
  expect(seen[1]).toEqual({
    stage: 'authenticate',
    outcome: 'anonymous',
    status: 200,
    source: 'none',
    durationMs: 0,
  });
  // A grant without a source mark on its timing came from memory.
  expect(seen[2]).toMatchObject({ outcome: 'granted', source: 'memory', subject: 'svc-2' });
});
