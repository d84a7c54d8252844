/**
 * The part of oidc-provider 9 (which ships no types) that the local issuer
 * uses. Only the issuer's child process imports oidc-provider, so nothing of
 * this leaks into the package's public types.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ClientMetadata {
    client_id: string;
    [key: string]: unknown;
  }

  export interface Client {
    readonly clientId: string;
    metadata(): ClientMetadata;
  }

  /** What a token model is built from (unknown keys are kept when listed in its payload). */
  export interface TokenInit {
    client?: Client;
    clientId?: string;
    accountId?: string;
    scope?: string;
    aud?: string[];
    gty?: string;
    expiresIn?: number;
  }

  export interface Token {
    readonly kind: string;
    readonly clientId: string;
    readonly accountId?: string;
    readonly scope?: string;
    readonly aud?: string | string[];
    /** Seconds the token lives. */
    readonly expiration: number;
    /** The token's id (for an opaque token: its value). */
    readonly jti: string;
    readonly iat: number;
    /** Stores the token and resolves to its opaque value. */
    save(): Promise<string>;
    destroy(): Promise<void>;
  }

  /** A token model: constructor plus the lookup by value. */
  export interface TokenModel {
    new (init: TokenInit): Token;
    find(value: string): Promise<Token | undefined>;
  }

  export interface OIDCContext {
    readonly params?: Record<string, unknown>;
    readonly client?: Client;
    entity(kind: string, value: unknown): void;
  }

  /** The Koa context oidc-provider hands to middleware, grant handlers and events. */
  export interface KoaContextWithOIDC {
    readonly method: string;
    readonly path: string;
    readonly req: IncomingMessage & { body?: unknown };
    get(field: string): string;
    is(...types: string[]): string | false | null;
    body: unknown;
    status: number;
    set(field: string, value: string): void;
    remove(field: string): void;
    readonly oidc: OIDCContext;
  }

  export type Next = () => Promise<void>;

  export interface Adapter {
    upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void>;
    find(id: string): Promise<Record<string, unknown> | undefined>;
    findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined>;
    findByUid(uid: string): Promise<Record<string, unknown> | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface OIDCProviderError extends Error {
    readonly error: string;
    readonly error_description?: string;
    readonly error_detail?: string;
    readonly status: number;
  }

  export const errors: {
    CustomOIDCProviderError: new (error: string, description?: string) => OIDCProviderError;
    InvalidRequest: new (description?: string) => OIDCProviderError;
  };

  export class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    readonly issuer: string;
    readonly AccessToken: TokenModel;
    readonly ClientCredentials: TokenModel;
    readonly Client: {
      find(id: string): Promise<Client | undefined>;
      readonly adapter: Adapter;
    };
    use(middleware: (ctx: KoaContextWithOIDC, next: Next) => Promise<void>): void;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    registerGrantType(
      name: string,
      handler: (ctx: KoaContextWithOIDC) => Promise<void>,
      params?: string[],
    ): void;
    emit(event: string, ...args: unknown[]): boolean;
    on(event: string, listener: (ctx: KoaContextWithOIDC, error: OIDCProviderError) => void): this;
  }
}
