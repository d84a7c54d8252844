/**
 * Public types of the local ZITADEL's Actions v2 event targets.
 */

/**
 * The events the local ZITADEL emits (Actions v2 event names).
 *
 * @example
 * ```ts
 * const events: LocalZitadelEventType[] = ['user.deactivated', 'user.grant.changed'];
 * ```
 */
export type LocalZitadelEventType =
  | 'user.grant.added'
  | 'user.grant.changed'
  | 'user.grant.removed'
  | 'user.deactivated'
  | 'user.reactivated'
  | 'user.removed'
  | 'user.pat.removed'
  | 'user.token.removed'
  | 'oidc_session.access_token.revoked';

/**
 * An Actions v2 webhook target.
 *
 * @example
 * ```ts
 * await zitadel.addEventTarget({ url: `${api}/zitadel/events`, events: ['user.deactivated'] });
 * ```
 */
export interface EventTargetOptions {
  /** Where the events are POSTed. */
  url: string;
  /** Only these events (default: all of them). */
  events?: LocalZitadelEventType[];
  /** `event_payload` as inline JSON (default, current ZITADEL) or a base64 string of JSON (older ZITADEL). */
  payloadEncoding?: 'json' | 'base64';
}

/**
 * A registered target: the key its events are signed with (HMAC-SHA256).
 *
 * @example
 * ```ts
 * const { signingKey } = await zitadel.addEventTarget({ url });
 * ```
 */
export interface EventTarget {
  signingKey: string;
}
