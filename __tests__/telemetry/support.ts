/**
 * Listens on the package's three channels like an outside subscriber would
 * (by name, through node:diagnostics_channel), and builds the small Express
 * app the telemetry suites drive.
 */
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import express, { type RequestHandler } from 'express';
import { authErrorHandler, requireClaim, requireRole, requireScope } from '../../lib';
import type { CircuitEvent, DecisionEvent, HttpCallContext } from '../../lib/telemetry/channels';

export interface Recorder {
  decisions: DecisionEvent[];
  /** Each HTTP attempt's context, as it was at `asyncEnd`. */
  http: HttpCallContext[];
  /** Event names of the tracing channel, in order. */
  httpEvents: string[];
  circuit: CircuitEvent[];
  /** `util.inspect` of everything published, for secret scans. */
  dump(): string;
  clear(): void;
  stop(): void;
}

export function record(): Recorder {
  const decisions: DecisionEvent[] = [];
  const http: HttpCallContext[] = [];
  const httpEvents: string[] = [];
  const circuit: CircuitEvent[] = [];
  const onDecision = (event: unknown) => decisions.push(event as DecisionEvent);
  const onCircuit = (event: unknown) => circuit.push(event as CircuitEvent);
  const handlers = {
    start: () => httpEvents.push('start'),
    end: () => httpEvents.push('end'),
    asyncStart: () => httpEvents.push('asyncStart'),
    asyncEnd: (ctx: HttpCallContext) => {
      httpEvents.push('asyncEnd');
      http.push({ ...ctx });
    },
    error: () => httpEvents.push('error'),
  };
  const channel = tracingChannel<unknown, HttpCallContext>('express-zitadel-introspection:http');
  subscribe('express-zitadel-introspection:decision', onDecision);
  subscribe('express-zitadel-introspection:circuit', onCircuit);
  channel.subscribe(handlers as never);
  return {
    decisions,
    http,
    httpEvents,
    circuit,
    dump: () => inspect({ decisions, http, circuit }, { depth: 8, showHidden: true }),
    clear() {
      decisions.length = 0;
      http.length = 0;
      httpEvents.length = 0;
      circuit.length = 0;
    },
    stop() {
      unsubscribe('express-zitadel-introspection:decision', onDecision);
      unsubscribe('express-zitadel-introspection:circuit', onCircuit);
      channel.unsubscribe(handlers as never);
    },
  };
}

/**
 * `/me` needs a token only; `/role` role `admin`, `/scope` scope `profile`,
 * `/claim` a check that always refuses. Refusals answered as RFC 6750 JSON.
 */
export function appWith(auth: RequestHandler): express.Express {
  const app = express();
  const ok: RequestHandler = (req, res) => {
    res.json({ subject: req.auth?.subject ?? null });
  };
  app.use(auth);
  app.get('/me', ok);
  app.get('/role', requireRole('admin'), ok);
  app.get('/scope', requireScope('profile'), ok);
  app.get(
    '/claim',
    requireClaim(() => false),
    ok,
  );
  app.use(authErrorHandler());
  return app;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
