/**
 * A hand-rolled protobuf (proto3) reader and writer for the two provisioning messages, following protobuf-java's
 * parsing rules so the emulator accepts and rejects the same bytes ThingsBoard does.
 *
 * Field numbers from ThingsBoard's common/proto/src/main/proto/queue.proto:
 *   message ProvisionDeviceRequestMsg {
 *     string deviceName = 1; CredentialsType credentialsType = 2;
 *     ProvisionDeviceCredentialsMsg provisionDeviceCredentialsMsg = 3;   // provisionDeviceKey = 1, provisionDeviceSecret = 2
 *     CredentialsDataProto credentialsDataProto = 4;                     // see below
 *     bool gateway = 5; }
 *   message CredentialsDataProto {
 *     ValidateDeviceTokenRequestMsg validateDeviceTokenRequestMsg = 1;          // token = 1
 *     ValidateDeviceX509CertRequestMsg validateDeviceX509CertRequestMsg = 2;    // hash = 1
 *     ValidateBasicMqttCredRequestMsg validateBasicMqttCredRequestMsg = 3; }    // clientId = 1, userName = 2, password = 3
 *   message ProvisionDeviceResponseMsg { ResponseStatus status = 1; CredentialsType credentialsType = 2; string credentialsValue = 3; }
 *   enum CredentialsType { ACCESS_TOKEN = 0; X509_CERTIFICATE = 1; MQTT_BASIC = 2; LWM2M_CREDENTIALS = 3; }
 *   enum ResponseStatus { UNKNOWN = 0; SUCCESS = 1; NOT_FOUND = 2; FAILURE = 3; }
 *
 * Rules kept from protobuf-java: unknown fields (and known fields with an unexpected wire type) are skipped;
 * field number 0, wire types 6 and 7, a stray or mismatched end-group, a truncated field, a negative length, a
 * varint longer than 10 bytes, invalid UTF-8 in a string, or nesting deeper than 100 are errors; a repeated
 * message field is merged and a repeated scalar field keeps the last value.
 */

export const PROTO_CREDENTIALS_TYPES = ["ACCESS_TOKEN", "X509_CERTIFICATE", "MQTT_BASIC", "LWM2M_CREDENTIALS"] as const;
export type ProtoCredentialsType = (typeof PROTO_CREDENTIALS_TYPES)[number];
export const PROTO_RESPONSE_STATUS = { UNKNOWN: 0, SUCCESS: 1, NOT_FOUND: 2, FAILURE: 3 } as const;

/** The bytes are not a valid protobuf message (protobuf-java's InvalidProtocolBufferException). */
export class ProtobufDecodeError extends Error {
  override readonly name = "ProtobufDecodeError";
}

export interface ProvisionDeviceRequestProto {
  deviceName: string;
  /** The raw enum number: values outside CredentialsType are kept, as proto3 does (Java sees UNRECOGNIZED). */
  credentialsType: number;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  token: string;
  hash: string;
  clientId: string;
  userName: string;
  password: string;
  gateway: boolean;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;
const RECURSION_LIMIT = 100;

const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class Reader {
  private pos: number;
  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufDecodeError("truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new ProtobufDecodeError("malformed varint (more than 10 bytes)");
  }

  /** protobuf-java's readRawVarint32: the low 32 bits, signed. */
  varint32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  /** Returns [fieldNumber, wireType]. */
  tag(): [number, number] {
    const tag = this.varint32() >>> 0;
    const field = tag >>> 3;
    if (field === 0) throw new ProtobufDecodeError("invalid tag (field number 0)");
    return [field, tag & 7];
  }

  /** A length-delimited field's payload as a sub-reader. */
  sub(): Reader {
    const len = this.varint32();
    if (len < 0) throw new ProtobufDecodeError("negative length");
    if (len > this.end - this.pos) throw new ProtobufDecodeError("truncated length-delimited field");
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  string(): string {
    const r = this.sub();
    try {
      return utf8Strict.decode(r.buf.subarray(r.pos, r.end));
    } catch {
      throw new ProtobufDecodeError("string field is not valid UTF-8");
    }
  }

  skip(field: number, wire: number, depth: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      case WIRE_LENGTH:
        this.sub();
        return;
      case WIRE_START_GROUP:
        if (depth >= RECURSION_LIMIT) throw new ProtobufDecodeError("nesting too deep");
        for (;;) {
          if (this.atEnd()) throw new ProtobufDecodeError("truncated group");
          const [f, w] = this.tag();
          if (w === WIRE_END_GROUP) {
            if (f !== field) throw new ProtobufDecodeError("mismatched end-group tag");
            return;
          }
          this.skip(f, w, depth + 1);
        }
      case WIRE_END_GROUP:
        throw new ProtobufDecodeError("unexpected end-group tag");
      default:
        throw new ProtobufDecodeError(`invalid wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new ProtobufDecodeError("truncated fixed-width field");
    this.pos += n;
  }
}

/** Field handlers by field number; each says which wire type it expects. Others are skipped. */
type Handlers = Record<number, { wire: number; read: (r: Reader, depth: number) => void }>;

function parseMessage(r: Reader, handlers: Handlers, depth: number): void {
  if (depth > RECURSION_LIMIT) throw new ProtobufDecodeError("nesting too deep");
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    const h = handlers[field];
    if (h && h.wire === wire) h.read(r, depth);
    else r.skip(field, wire, depth);
  }
}

const str = (set: (s: string) => void) => ({ wire: WIRE_LENGTH, read: (r: Reader) => set(r.string()) });
const msg = (handlers: Handlers) => ({
  wire: WIRE_LENGTH,
  read: (r: Reader, depth: number) => parseMessage(r.sub(), handlers, depth + 1),
});

export function decodeProvisionDeviceRequest(bytes: Uint8Array): ProvisionDeviceRequestProto {
  const m: ProvisionDeviceRequestProto = {
    deviceName: "",
    credentialsType: 0,
    provisionDeviceKey: "",
    provisionDeviceSecret: "",
    token: "",
    hash: "",
    clientId: "",
    userName: "",
    password: "",
    gateway: false,
  };
  parseMessage(
    new Reader(bytes, 0, bytes.length),
    {
      1: str((s) => (m.deviceName = s)),
      2: { wire: WIRE_VARINT, read: (r) => (m.credentialsType = r.varint32()) },
      3: msg({ 1: str((s) => (m.provisionDeviceKey = s)), 2: str((s) => (m.provisionDeviceSecret = s)) }),
      4: msg({
        1: msg({ 1: str((s) => (m.token = s)) }),
        2: msg({ 1: str((s) => (m.hash = s)) }),
        3: msg({ 1: str((s) => (m.clientId = s)), 2: str((s) => (m.userName = s)), 3: str((s) => (m.password = s)) }),
      }),
      5: { wire: WIRE_VARINT, read: (r) => (m.gateway = r.varint() !== 0n) },
    },
    0,
  );
  return m;
}

// ---- writer ----

function varintBytes(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** Builds a message field by field; proto3 leaves out fields holding their default (0, "", false). */
export class ProtoWriter {
  private readonly bytes: number[] = [];

  varintField(field: number, value: number | bigint | boolean): this {
    const v = typeof value === "boolean" ? (value ? 1 : 0) : value;
    if (v === 0 || v === 0n) return this;
    this.bytes.push(...varintBytes((field << 3) | WIRE_VARINT), ...varintBytes(v));
    return this;
  }

  bytesField(field: number, payload: Uint8Array): this {
    if (payload.length === 0) return this;
    this.bytes.push(...varintBytes((field << 3) | WIRE_LENGTH), ...varintBytes(payload.length));
    for (const b of payload) this.bytes.push(b);
    return this;
  }

  stringField(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export interface ProvisionDeviceResponseProto {
  status: keyof typeof PROTO_RESPONSE_STATUS;
  credentialsType?: ProtoCredentialsType;
  credentialsValue?: string;
}

/**
 * ProvisionDeviceResponseMsg bytes. Failures carry only the status (ThingsBoard sets nothing else), so
 * FAILURE is exactly `08 03` and NOT_FOUND `08 02`.
 */
export function encodeProvisionDeviceResponse(m: ProvisionDeviceResponseProto, encodeString: (s: string) => Uint8Array): Uint8Array {
  const w = new ProtoWriter().varintField(1, PROTO_RESPONSE_STATUS[m.status]);
  if (m.credentialsType !== undefined) w.varintField(2, PROTO_CREDENTIALS_TYPES.indexOf(m.credentialsType));
  if (m.credentialsValue !== undefined) w.bytesField(3, encodeString(m.credentialsValue));
  return w.finish();
}
