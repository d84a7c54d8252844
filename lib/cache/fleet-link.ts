/**
 * The seam between the fleet's transport (the coordinating store: Redis
 * connection, subscriber, envelope encryption — coordination.ts) and the
 * fleet-wide policies built on it (shared circuit and back-off, rate budget,
 * probe lock, refresh-ahead). The policies see only this interface, so they
 * are testable on their own and know nothing of the Redis client in use.
 */

/**
 * A message every replica of the fleet receives. The transport encrypts and
 * authenticates it; a message that does not decrypt never reaches a handler.
 * `type` names the policy it belongs to; other fields are that policy's own
 * (never a token, a subject in clear, a key or a secret).
 */
export interface FleetMessage {
  type: string;
  [field: string]: unknown;
}

/**
 * What a coordinating store offers the fleet policies.
 *
 * @example
 * ```ts
 * const count = await link.eval(BUDGET_SCRIPT, [link.key('budget')], ['40']);
 * link.onMessage((m) => { if (m.type === 'circuit') openFor(Number(m.seconds)); });
 * await link.publish({ type: 'circuit', seconds: 4 });
 * ```
 */
export interface FleetLink {
  /**
   * Runs a Lua script on the coordinating Redis. `keys` are full key names
   * from {@link FleetLink.key}. Rejects on an error or after the store's
   * timeout (`storeTimeoutMs`): the caller then acts alone.
   */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  /** The full Redis key of `name` for this fleet (prefix and issuer scope). */
  key(name: string): string;
  /** Sends `message` to every other replica; never rejects (best effort). */
  publish(message: FleetMessage): Promise<void>;
  /** Calls `handler` with each message of another replica; returns an unsubscribe. */
  onMessage(handler: (message: FleetMessage) => void): () => void;
}

/**
 * Internal: `introspector[FLEET_LINK]()` is the coordinating store's
 * {@link FleetLink} once the credential is loaded and the store coordinates,
 * else `undefined` (the policies then act per process).
 *
 * @example
 * ```ts
 * const link = introspector[FLEET_LINK]();
 * link?.onMessage((m) => m.type === 'circuit' && openFor(Number(m.seconds)));
 * ```
 */
export const FLEET_LINK: unique symbol = Symbol('express-zitadel-introspection.fleet-link');
