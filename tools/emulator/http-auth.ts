/**
 * The tenant login of ThingsBoard's REST API: `POST /api/auth/login`, `POST /api/auth/token` (refresh) and the
 * `X-Authorization: Bearer <token>` check in front of every other `/api/**` route.
 *
 * Tokens are JWTs signed with HS512 and a key made fresh for each server, like ThingsBoard's (tools that decode
 * the token to read `exp` keep working); they die with the server. Error bodies and messages are those of
 * ThingsboardErrorResponseHandler.handleAuthenticationException.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { tbError, TbErrorCode, type ReplyError } from "./http-reply.js";

export interface TenantAccount {
  username: string;
  password: string;
}

export interface TokenLifetimes {
  /** ThingsBoard's default `security.jwt.tokenExpirationTime`: 9000 s. */
  accessTokenMs: number;
  /** ThingsBoard's default `security.jwt.refreshTokenExpTime`: 604800 s. */
  refreshTokenMs: number;
}

export const DEFAULT_TENANT: TenantAccount = { username: "tenant@thingsboard.org", password: "tenant" };
export const DEFAULT_TOKEN_LIFETIMES: TokenLifetimes = { accessTokenMs: 9_000_000, refreshTokenMs: 604_800_000 };

export interface TokenPair {
  token: string;
  refreshToken: string;
}

interface Claims {
  sub: string;
  scopes: string[];
  userId: string;
  tenantId: string;
  iss: string;
  iat: number;
  exp: number;
}

/** ThingsBoard marks refresh tokens with this scope so they cannot be used as access tokens. */
const REFRESH_SCOPE = "REFRESH_TOKEN";
const HEADER_PREFIX = "Bearer ";

export const authFailed = (): ReplyError => tbError("Authentication failed", TbErrorCode.AUTHENTICATION);
const tokenExpired = (): ReplyError => tbError("Token has expired", TbErrorCode.JWT_TOKEN_EXPIRED);
const badCredentials = (): ReplyError => tbError("Invalid username or password", TbErrorCode.AUTHENTICATION);

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export class TenantAuth {
  private readonly key = randomBytes(64);
  /** The tenant administrator's user id, stable for the server's life. */
  readonly userId = randomUUID();

  constructor(
    private readonly account: TenantAccount,
    private readonly tenantId: string,
    private readonly lifetimes: TokenLifetimes,
    private readonly now: () => number,
  ) {}

  /** `POST /api/auth/login` body → token pair, or ThingsBoard's 401. */
  login(body: unknown): TokenPair {
    const o = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof o.username !== "string" || typeof o.password !== "string" || o.username === "" || o.password === "") {
      // RestLoginProcessingFilter: "Username or Password not provided" (an AuthenticationServiceException).
      throw authFailed();
    }
    if (!sameText(o.username, this.account.username) || !sameText(o.password, this.account.password)) throw badCredentials();
    return this.issuePair();
  }

  /** `POST /api/auth/token` body `{"refreshToken"}` → a new pair. */
  refresh(body: unknown): TokenPair {
    const o = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof o.refreshToken !== "string") throw authFailed();
    const claims = this.verify(o.refreshToken);
    if (!claims.scopes.includes(REFRESH_SCOPE)) throw authFailed();
    return this.issuePair();
  }

  /** Checks the `X-Authorization` header of a protected request; throws the 401 to send. */
  authorize(header: string | string[] | undefined): void {
    const value = Array.isArray(header) ? header[0] : header;
    if (value === undefined || value === "" || !value.startsWith(HEADER_PREFIX)) throw authFailed();
    const claims = this.verify(value.slice(HEADER_PREFIX.length));
    if (claims.scopes.includes(REFRESH_SCOPE)) throw authFailed();
  }

  private issuePair(): TokenPair {
    const iat = this.now();
    const base = { sub: this.account.username, userId: this.userId, tenantId: this.tenantId, iss: "thingsboard.io" };
    const seconds = (ms: number) => Math.floor(ms / 1000);
    return {
      token: this.sign({ ...base, scopes: ["TENANT_ADMIN"], iat: seconds(iat), exp: seconds(iat + this.lifetimes.accessTokenMs) }),
      refreshToken: this.sign({
        ...base,
        scopes: [REFRESH_SCOPE],
        iat: seconds(iat),
        exp: seconds(iat + this.lifetimes.refreshTokenMs),
      }),
    };
  }

  private sign(claims: Claims): string {
    const head = b64url(JSON.stringify({ alg: "HS512" }));
    const body = b64url(JSON.stringify({ ...claims, jti: randomUUID() }));
    return `${head}.${body}.${this.mac(`${head}.${body}`)}`;
  }

  private mac(text: string): string {
    return createHmac("sha512", this.key).update(text).digest("base64url");
  }

  /** Signature first (a forged token is "failed", never "expired"), then expiry. */
  private verify(token: string): Claims {
    const parts = token.split(".");
    if (parts.length !== 3) throw authFailed();
    const [head, body, sig] = parts as [string, string, string];
    if (!sameText(sig, this.mac(`${head}.${body}`))) throw authFailed();
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Claims;
    } catch {
      throw authFailed();
    }
    if (typeof claims.exp !== "number" || !Array.isArray(claims.scopes)) throw authFailed();
    if (this.now() >= claims.exp * 1000) throw tokenExpired();
    return claims;
  }
}

/** Constant-time comparison, so a wrong password or signature leaks nothing through timing. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Paths that ThingsBoard's security config lets through without a token. */
export function isPublicApiPath(path: string): boolean {
  return (
    path === "/api/auth/login" ||
    path === "/api/auth/token" ||
    path.startsWith("/api/noauth/") ||
    path.startsWith("/api/v1/")
  );
}
