/**
 * Secret scanning for the hardening suites: every secret a suite handles
 * (tokens, the API key PEM and its base64 body, client secrets, the client
 * assertions seen on the wire) is registered, every text that leaves the
 * package (log lines, error messages and their `inspect` form, response
 * bodies and headers, Redis keys) is collected, and `leaks()` names each
 * secret found in a text.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ReceivedRequest } from '../../helpers/fault-proxy';

/**
 * Collects secrets and outgoing texts; `leaks()` lists every secret found.
 *
 * @example
 * ```ts
 * const scan = new SecretScan();
 * scan.secret('PAT', pat);
 * scan.key('API key', zitadel.apiKeyFile.key);
 * scan.text('log', logger.text());
 * expect(scan.leaks()).toEqual([]);
 * ```
 */
export class SecretScan {
  readonly #secrets = new Map<string, string>();
  readonly #texts: Array<{ label: string; text: string }> = [];

  /** A secret and the forms it travels in (form-encoded, URI-encoded). */
  secret(label: string, value: string | undefined): void {
    // Short values would match by chance; none of the real secrets is short.
    if (!value || value.length < 12) return;
    for (const form of [value, new URLSearchParams({ v: value }).toString().slice(2)]) {
      this.#secrets.set(form, label);
      this.#secrets.set(encodeURIComponent(form), label);
    }
  }

  /** A PEM key: the whole text, its base64 body joined, and each body line. */
  key(label: string, pem: string): void {
    this.secret(label, pem);
    const lines = pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
    this.secret(`${label} (base64 body)`, lines.join(''));
    lines.forEach((line, index) => this.secret(`${label} (body line ${index + 1})`, line));
  }

  /** Client assertions and Basic credentials sent through the proxy; returns how many. */
  sentBy(label: string, requests: ReceivedRequest[]): number {
    let found = 0;
    for (const request of requests) {
      const form = new URLSearchParams(request.body);
      for (const field of ['client_assertion', 'assertion']) {
        const value = form.get(field);
        if (value) {
          found++;
          this.secret(`${label} ${field}`, value);
          this.secret(`${label} ${field} signature`, value.split('.')[2]);
        }
      }
      const authorization = request.headers.authorization;
      if (authorization?.startsWith('Basic ')) {
        found++;
        this.secret(`${label} Basic credentials`, authorization.slice(6));
      }
    }
    return found;
  }

  text(label: string, text: string): void {
    this.#texts.push({ label, text });
  }

  response(label: string, res: { status: number; headers: IncomingHttpHeaders; body: string }) {
    this.text(label, `${res.status} ${JSON.stringify(res.headers)} ${res.body}`);
  }

  /** `<secret> in <text>` for every registered secret found in a collected text. */
  leaks(): string[] {
    const found = new Set<string>();
    for (const { label, text } of this.#texts) {
      for (const [secret, secretLabel] of this.#secrets) {
        if (text.includes(secret)) found.add(`${secretLabel} in ${label}`);
      }
    }
    return [...found];
  }

  get counts(): { secrets: number; texts: number } {
    return { secrets: this.#secrets.size, texts: this.#texts.length };
  }
}
