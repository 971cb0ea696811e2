/**
 * What a REST handler answers, kept as data so handlers stay pure and one place writes the socket.
 * Two error dialects, as in ThingsBoard:
 * - most controllers answer a JSON ThingsboardErrorResponse `{"status","message","errorCode","timestamp"}`;
 * - the telemetry and RPC controllers answer errors as plain text (their DeferredResult carries a bare string).
 */

/** ThingsboardErrorCode values that the emulator can produce. */
export const TbErrorCode = {
  GENERAL: 2,
  AUTHENTICATION: 10,
  JWT_TOKEN_EXPIRED: 11,
  PERMISSION_DENIED: 20,
  INVALID_ARGUMENTS: 30,
  BAD_REQUEST_PARAMS: 31,
  ITEM_NOT_FOUND: 32,
} as const;
export type TbErrorCode = (typeof TbErrorCode)[keyof typeof TbErrorCode];

export interface Reply {
  status: number;
  /** Absent: empty body (ThingsBoard's `new ResponseEntity<>(HttpStatus.OK)`). */
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** The handler wrote the response itself (Server-Sent Events). */
export const HANDLED = Symbol("handled");
export type HandlerResult = Reply | typeof HANDLED;

export const JSON_TYPE = "application/json";
export const TEXT_TYPE = "text/plain;charset=UTF-8";

export function jsonReply(value: unknown, status = 200): Reply {
  return { status, body: JSON.stringify(value), contentType: JSON_TYPE };
}

/** For bodies already serialised exactly (provision responses). */
export function rawJsonReply(text: string, status = 200): Reply {
  return { status, body: text, contentType: JSON_TYPE };
}

export function textReply(text: string, status: number): Reply {
  return { status, body: text, contentType: TEXT_TYPE };
}

export function emptyReply(status = 200): Reply {
  return { status };
}

/** ThingsboardErrorResponse, fields in Jackson's order for that class. */
export function tbErrorReply(status: number, message: string, errorCode: TbErrorCode, timestamp: number): Reply {
  return jsonReply({ status, message, errorCode, timestamp }, status);
}

/**
 * Thrown anywhere below a handler to stop with a given answer. The timestamp of JSON errors is filled in by the
 * server (its clock), so handlers need not carry one.
 */
export class ReplyError extends Error {
  override readonly name = "ReplyError";
  constructor(
    readonly reply: (now: number) => Reply,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON ThingsBoard error; status follows the code as in ThingsboardErrorResponseHandler. */
export function tbError(message: string, errorCode: TbErrorCode): ReplyError {
  const status = statusOf(errorCode);
  return new ReplyError((now) => tbErrorReply(status, message, errorCode, now), message);
}

/** A plain-text error (telemetry and RPC controllers). */
export function textError(message: string, status: number): ReplyError {
  return new ReplyError(() => textReply(message, status), message);
}

export const badRequest = (message: string) => tbError(message, TbErrorCode.BAD_REQUEST_PARAMS);
export const notFound = (message: string) => tbError(message, TbErrorCode.ITEM_NOT_FOUND);

function statusOf(code: TbErrorCode): number {
  switch (code) {
    case TbErrorCode.AUTHENTICATION:
    case TbErrorCode.JWT_TOKEN_EXPIRED:
      return 401;
    case TbErrorCode.PERMISSION_DENIED:
      return 403;
    case TbErrorCode.INVALID_ARGUMENTS:
    case TbErrorCode.BAD_REQUEST_PARAMS:
      return 400;
    case TbErrorCode.ITEM_NOT_FOUND:
      return 404;
    case TbErrorCode.GENERAL:
      return 500;
  }
}
