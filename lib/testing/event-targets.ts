/**
 * Actions v2 webhook targets (runs in the child process): each state change
 * is POSTed to every target that wants its event, shaped and signed as
 * ZITADEL does (`pkg/actions/signing.go`: header `ZITADEL-Signature:
 * t=<unix s>,v1=<hex HMAC-SHA256(key, t + "." + body)>`). As ZITADEL, a
 * failed delivery is not retried.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { StoredEvent } from './admin';
import type { EventTarget, EventTargetOptions } from './types';

const DELIVERY_TIMEOUT_MS = 5_000;
// ZITADEL's aggregate versions.
const AGGREGATE_VERSION: Record<StoredEvent['aggregateType'], string> = {
  user: 'v2',
  usergrant: 'v1',
  oidc_session: 'v1',
};

interface Target {
  url: string;
  events: Set<string> | undefined;
  payloadEncoding: 'json' | 'base64';
  signingKey: string;
}

/**
 * Signs a webhook body as ZITADEL does.
 *
 * @example
 * ```ts
 * signatureHeader('test-signing-key', 1700000000, '{"aggregateID":"123","event_type":"user.deactivated"}');
 * // 't=1700000000,v1=c8a7727c…'
 * ```
 */
export function signatureHeader(signingKey: string, unixSeconds: number, body: string): string {
  const v1 = createHmac('sha256', signingKey).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/**
 * The registered targets of one issuer.
 *
 * @example
 * ```ts
 * const targets = new EventTargets({ instanceId, actorId });
 * const { signingKey } = targets.add({ url: 'http://127.0.0.1:3000/zitadel/events' });
 * await targets.emit([event]);
 * ```
 */
export class EventTargets {
  private readonly targets: Target[] = [];
  private sequence = 0;

  constructor(private readonly ids: { instanceId: string; actorId: string }) {}

  /** Registers a target; its signing key is returned once, as ZITADEL does. */
  add(options: EventTargetOptions): EventTarget {
    const { url, events, payloadEncoding = 'json' } = options ?? ({} as EventTargetOptions);
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
      throw new Error('url must be an http(s) URL');
    }
    if (
      events !== undefined &&
      (!Array.isArray(events) || !events.every((e) => typeof e === 'string'))
    ) {
      throw new Error('events must be a list of event names');
    }
    if (payloadEncoding !== 'json' && payloadEncoding !== 'base64') {
      throw new Error("payloadEncoding must be 'json' or 'base64'");
    }
    const signingKey = randomBytes(24).toString('base64url');
    this.targets.push({ url, events: events && new Set(events), payloadEncoding, signingKey });
    return { signingKey };
  }

  /** Delivers the events, in order, to every target that wants them; resolves when each delivery ended. */
  async emit(events: StoredEvent[]): Promise<void> {
    for (const event of events) {
      const sequence = ++this.sequence;
      const createdAt = new Date().toISOString();
      await Promise.all(
        this.targets
          .filter((target) => !target.events || target.events.has(event.type))
          .map((target) => deliver(target, this.body(target, event, sequence, createdAt))),
      );
    }
  }

  private body(target: Target, event: StoredEvent, sequence: number, createdAt: string): string {
    const payload =
      event.payload === null || target.payloadEncoding === 'json'
        ? event.payload
        : Buffer.from(JSON.stringify(event.payload)).toString('base64');
    return JSON.stringify({
      aggregateID: event.aggregateId,
      aggregateType: event.aggregateType,
      resourceOwner: event.resourceOwner,
      instanceID: this.ids.instanceId,
      version: AGGREGATE_VERSION[event.aggregateType],
      sequence,
      event_type: event.type,
      created_at: createdAt,
      userID: this.ids.actorId,
      event_payload: payload,
    });
  }
}

/** One POST; a failure (refused, timed out, any status) is dropped, as ZITADEL drops it. */
async function deliver(target: Target, body: string): Promise<void> {
  const signature = signatureHeader(target.signingKey, Math.floor(Date.now() / 1000), body);
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'zitadel-signature': signature },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await response.arrayBuffer();
  } catch {
    // No retry (zitadel#10268): the receiver's TTL is the backstop.
  }
}
