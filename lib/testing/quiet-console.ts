/**
 * Imported first by the issuer's child process, before oidc-provider loads:
 * oidc-provider prints notices and warnings ("Unsupported runtime", "already
 * parsed request body", default-policy notices) that mean nothing to a test
 * run. With `logLevel: 'silent'` the child writes nothing at all.
 */
import { decodeSettings } from './ipc-protocol';

const OIDC_PROVIDER_PREFIX = 'oidc-provider ';
const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;

if (decodeSettings(process.argv[2]).logLevel === 'silent') {
  for (const method of methods) console[method] = () => {};
} else {
  for (const method of methods) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes(OIDC_PROVIDER_PREFIX)) return;
      original(...args);
    };
  }
}
