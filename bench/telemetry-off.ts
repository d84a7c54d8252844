/**
 * A copy of the compiled package with telemetry compiled out, for the micro
 * bench's "nothing measurable without subscribers": the same build, whose
 * channel module (`telemetry/channels.js`) is replaced by one whose channels
 * never have subscribers (a constant `false` on a frozen object) and whose
 * publishers do nothing. Every `hasSubscribers` check of the real code then
 * reads a constant, so the difference to the real build with nobody
 * listening is what the checks (and the channel objects) cost. The real
 * arm is a fresh copy too, so both arms' code is loaded and warmed alike
 * (the main build's cache code was also used by the other micro benches,
 * and a JIT fed by more callers is slower for reasons unrelated to telemetry),
 * and a second unchanged copy is the control: what two identical builds
 * differ by is the noise floor of the comparison.
 */
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The stand-in for lib/telemetry/channels.ts, as compiled CommonJS. */
const STUB = `"use strict";
// Written by bench/telemetry-off.ts: telemetry compiled out.
Object.defineProperty(exports, "__esModule", { value: true });
exports.DECISION_CHANNEL = 'express-zitadel-introspection:decision';
exports.HTTP_CHANNEL = 'express-zitadel-introspection:http';
exports.CIRCUIT_CHANNEL = 'express-zitadel-introspection:circuit';
const off = Object.freeze({ hasSubscribers: false, publish() {} });
exports.decisionChannel = off;
exports.circuitChannel = off;
exports.httpChannel = Object.freeze({ hasSubscribers: false });
exports.publishCircuit = function publishCircuit() {};
`;

/**
 * Copies `buildDir` three times next to itself (so the package's
 * dependencies still resolve from the repo's node_modules): `on` and
 * `control` unchanged, `off` with the stub in place of the channel module,
 * checked to export every name the real one does.
 *
 * @example
 * ```ts
 * const { on, control, off } = telemetryBuilds(buildDir);
 * const { zitadelAuth } = loadPackage<typeof import('../lib')>(off, 'index');
 * ```
 */
export function telemetryBuilds(buildDir: string): { on: string; control: string; off: string } {
  const on = copy(buildDir, 'telemetry-on');
  const control = copy(buildDir, 'telemetry-control');
  const off = copy(buildDir, 'telemetry-off');
  const module = join('telemetry', 'channels.js');
  writeFileSync(join(off, module), STUB);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- paths known only at run time
  const real = Object.keys(require(join(on, module)) as object).sort();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- paths known only at run time
  const stub = Object.keys(require(join(off, module)) as object).sort();
  if (real.join() !== stub.join()) {
    throw new Error(`the telemetry stub exports ${stub.join()}, the real module ${real.join()}`);
  }
  return { on, control, off };
}

function copy(buildDir: string, suffix: string): string {
  const dir = `${buildDir}-${suffix}`;
  rmSync(dir, { recursive: true, force: true });
  cpSync(buildDir, dir, { recursive: true });
  return dir;
}
