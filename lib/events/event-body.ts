/**
 * The body of a ZITADEL Actions v2 event call, read after its signature was
 * verified: `{ aggregateID, aggregateType, resourceOwner, instanceID,
 * version, sequence, event_type, created_at, userID, event_payload }`.
 * `userID` is whoever made the change (an admin, say) and is never used:
 * the affected object is `aggregateID`.
 */

/** One event, with only what the webhook acts on. */
export interface ZitadelEvent {
  /** `event_type`, e.g. `user.deactivated`. */
  type: string;
  /** `aggregateID`: the user, grant, session or project the event is about. */
  aggregateId: string;
  /** `sequence` as a string, when the event carries one. */
  sequence: string | undefined;
  /** `event_payload` decoded to an object; `{}` when absent, `null` or not decodable. */
  payload: Record<string, unknown>;
}

/** The outcome of {@link readEvent}: an event, or the answer to send and why. */
export type ReadEvent =
  | { event: ZitadelEvent }
  | {
      status: 400 | 403;
      fault: 'not a JSON object' | 'other instance' | 'missing event_type' | 'missing aggregateID';
    };

/**
 * Parses `body` and applies the rules in this order: a JSON object (else 400),
 * `instanceID` equal to `instanceId` when one is expected (else 403),
 * `event_type` and `aggregateID` non-empty strings (else 400).
 *
 * @example
 * ```ts
 * const read = readEvent(Buffer.from('{"aggregateID":"123","event_type":"user.deactivated"}'), undefined);
 * if ('event' in read) read.event.type; // 'user.deactivated'
 * ```
 */
export function readEvent(body: Buffer, instanceId: string | undefined): ReadEvent {
  const json = parseObject(body.toString('utf8'));
  if (!json) return { status: 400, fault: 'not a JSON object' };
  if (instanceId !== undefined && json.instanceID !== instanceId) {
    return { status: 403, fault: 'other instance' };
  }
  const type = json.event_type;
  if (typeof type !== 'string' || type === '') return { status: 400, fault: 'missing event_type' };
  const aggregateId = json.aggregateID;
  if (typeof aggregateId !== 'string' || aggregateId === '') {
    return { status: 400, fault: 'missing aggregateID' };
  }
  const sequence = json.sequence;
  return {
    event: {
      type,
      aggregateId,
      sequence:
        typeof sequence === 'number' || (typeof sequence === 'string' && sequence !== '')
          ? String(sequence)
          : undefined,
      payload: decodePayload(json.event_payload),
    },
  };
}

/**
 * `event_payload` comes inline as an object (newer ZITADEL), as a base64
 * string of JSON (older), as `{}` (a v4.1.x bug) or `null` (events without
 * payload). Anything that does not decode to an object is `{}`: the events
 * that need a payload then have nothing to act on, and are ignored.
 *
 * @example
 * ```ts
 * decodePayload(Buffer.from('{"userId":"42"}').toString('base64')); // { userId: '42' }
 * ```
 */
export function decodePayload(payload: unknown): Record<string, unknown> {
  if (typeof payload === 'string') {
    const text = payload.trimStart().startsWith('{')
      ? payload
      : Buffer.from(payload, 'base64').toString('utf8');
    return parseObject(text) ?? {};
  }
  return isObject(payload) ? payload : {};
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
