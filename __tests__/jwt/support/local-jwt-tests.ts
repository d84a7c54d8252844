/**
 * The set-up the local-JWT suites share: a fresh JWT issuer per test and a
 * factory of introspectors on it (the issuer's API app, no retries, local
 * verification), every introspector closed after its test, then the issuer.
 */
import { createIntrospector, type Introspector } from '../../../lib/introspector';
import type { IntrospectorOptions } from '../../../lib/options';
import { startJwtIssuer, type JwtIssuer } from './jwt-issuer';

/**
 * Registers the hooks; `z` stands for the current test's issuer (reads and
 * writes go to it), `make(options)` builds an introspector with `defaults`
 * and then `options` over the base settings, `closeAfter` adopts one built
 * elsewhere.
 *
 * @example
 * ```ts
 * const { z, make } = localJwtTests({ jwt: { verify: 'local', revalidateSeconds: 1 } });
 * ```
 */
export function localJwtTests(defaults: Partial<IntrospectorOptions> = {}): {
  z: JwtIssuer;
  make(options?: Partial<IntrospectorOptions>): Introspector;
  /** Closes an introspector built elsewhere (e.g. a middleware's) after the test too. */
  closeAfter(introspector: Introspector): void;
} {
  let current: JwtIssuer | undefined;
  const open: Introspector[] = [];
  beforeEach(async () => {
    current = await startJwtIssuer();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((introspector) => introspector.close()));
    await current?.close();
    current = undefined;
  });

  const issuer = (): JwtIssuer => {
    if (!current) throw new Error('the JWT issuer exists only inside a test');
    return current;
  };
  const z = new Proxy({} as JwtIssuer, {
    get: (_target, name) => {
      const value: unknown = Reflect.get(issuer(), name);
      return typeof value === 'function' ? value.bind(issuer()) : value;
    },
    set: (_target, name, value) => Reflect.set(issuer(), name, value),
  });

  return {
    z,
    make(options = {}) {
      const introspector = createIntrospector({
        issuer: issuer().issuer,
        clientId: issuer().clientId,
        clientSecret: issuer().clientSecret,
        projectId: issuer().projectId,
        retries: 0,
        jwt: { verify: 'local' },
        ...defaults,
        ...options,
      } as IntrospectorOptions);
      open.push(introspector);
      return introspector;
    },
    closeAfter(introspector) {
      open.push(introspector);
    },
  };
}
