/**
 * The parent's handle on the issuer's child process: forks it, waits for
 * `ready`, sends requests and matches the answers by id, and kills it.
 *
 * oidc-provider cannot run inside jest's module sandbox, hence the process.
 * The handle does not keep the parent alive on its own (a test that forgets
 * `close()` must not hang jest): the child and its IPC channel are unref'd
 * except while a start or a request is pending.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  encodeSettings,
  type IssuerInfo,
  type IssuerMessage,
  type IssuerMethods,
  type IssuerSettings,
  type MethodName,
} from './ipc-protocol';

const START_TIMEOUT_MS = 20_000;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * A running issuer child process.
 *
 * @example
 * ```ts
 * const { child, info } = await IssuerChild.start(settings);
 * await child.request('setLatency', 50);
 * await child.close();
 * ```
 */
export class IssuerChild {
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;
  private closing: Promise<void> | undefined;

  private constructor(private readonly subprocess: ChildProcess) {
    subprocess.on('message', (message: IssuerMessage) => this.onMessage(message));
    subprocess.on('exit', () => this.failPending(new Error('the local ZITADEL process exited')));
  }

  /** Forks the child and resolves once it listens. */
  static async start(settings: IssuerSettings): Promise<{ child: IssuerChild; info: IssuerInfo }> {
    const { script, execArgv } = childScript();
    const subprocess = fork(script, [encodeSettings(settings)], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child = new IssuerChild(subprocess);
    try {
      const info = await waitForReady(subprocess);
      subprocess.unref();
      subprocess.channel?.unref();
      return { child, info };
    } catch (error) {
      await child.close();
      throw error;
    }
  }

  get pid(): number {
    return this.subprocess.pid ?? -1;
  }

  /** Calls a method in the child. */
  request<M extends MethodName>(
    method: M,
    params: IssuerMethods[M]['params'],
  ): Promise<IssuerMethods[M]['result']> {
    if (this.closing || !this.subprocess.connected) {
      return Promise.reject(new Error('the local ZITADEL is closed'));
    }
    const id = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.subprocess.channel?.ref();
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      this.subprocess.send({ id, method, params }, (error) => {
        if (error) this.settleWith(id, error);
      });
    });
  }

  /** Kills the child; resolves once it has exited. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      const child = this.subprocess;
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.ref();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    return this.closing;
  }

  private onMessage(message: IssuerMessage): void {
    if (message.type !== 'response') return;
    if ('error' in message) this.settleWith(message.id, new Error(message.error));
    else this.settleWith(message.id, undefined, message.result);
  }

  private settleWith(id: number, error: Error | undefined, result?: unknown): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.subprocess.channel?.unref();
    if (error) pending.reject(error);
    else pending.resolve(result);
  }

  private failPending(error: Error): void {
    for (const id of [...this.pending.keys()]) this.settleWith(id, error);
  }
}

/** Resolves with the child's `ready` info; rejects if it fails, exits or takes too long. */
function waitForReady(child: ChildProcess): Promise<IssuerInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`the local ZITADEL did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const onMessage = (message: IssuerMessage) => {
      if (message.type === 'ready') done(undefined, message.info);
      else if (message.type === 'failed') done(new Error(`local ZITADEL: ${message.message}`));
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`the local ZITADEL exited during start (${signal ?? `code ${code}`})`));
    const onError = (error: Error) => done(error);
    function done(error: Error | undefined, info?: IssuerInfo) {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
      if (error) reject(error);
      else resolve(info as IssuerInfo);
    }
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
  });
}

/**
 * From source (jest through swc, tsx) the child is the `.ts` file run
 * through tsx; from the compiled package it is the `.js` next to this one.
 */
function childScript(): { script: string; execArgv: string[] } {
  if (!__filename.endsWith('.ts')) {
    return { script: join(__dirname, 'issuer-process.js'), execArgv: [] };
  }
  return { script: join(__dirname, 'issuer-process.ts'), execArgv: ['--import', tsxLoader()] };
}

function tsxLoader(): string {
  try {
    return pathToFileURL(require.resolve('tsx')).href;
  } catch {
    return 'tsx';
  }
}
