import { createHash } from "node:crypto";
import {
  accessTokenCredentials,
  generateAccessToken,
  InvalidCredentialsError,
  mqttBasicCredentials,
  parseBasicMqttValue,
  randomAlphanumeric,
  sha3Hex,
  stripPem,
  x509Credentials,
} from "../../tools/emulator/credentials.js";

/** Independent reference: node:crypto directly, not the module under test. */
const refSha3 = (s: string) => createHash("sha3-256").update(Buffer.from(s, "utf8")).digest("hex");

/** A real self-signed P-256 certificate (CN=esp32-test), made with openssl for this test. */
const CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUVKyupo3LeaPq453506FyrkfduI0wCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKZXNwMzItdGVzdDAeFw0yNjExMjYwOTA0NTNaFw0zNjExMjMw
OTA0NTNaMBUxEzARBgNVBAMMCmVzcDMyLXRlc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQKszZsfU5IWehDAgqXY2+RlA5ZtArkhXe+bAkl3+vPKtcIxRMXBR5n
4TbZsSpNzDyZW231lno13OMz84XElcR8o1MwUTAdBgNVHQ4EFgQUD4MD4+eAHjdI
4TRmmY8kn9Cw0wUwHwYDVR0jBBgwFoAUD4MD4+eAHjdI4TRmmY8kn9Cw0wUwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBwNXoF6ivqM8+CMHdZDWc5
MvyaIZCPSl4cbcIp+hC2vAIhAJdJ4pE8vKducatx6z3mBvxrMy+LAO+Ex+KjomT2
iYDC
-----END CERTIFICATE-----
`;
const CERT_BODY =
  "MIIBfzCCASWgAwIBAgIUVKyupo3LeaPq453506FyrkfduI0wCgYIKoZIzj0EAwIwFTETMBEGA1UEAwwKZXNwMzItdGVzdDAeFw0yNjExMjYwOTA0NTNaFw0zNjExMjMw" +
  "OTA0NTNaMBUxEzARBgNVBAMMCmVzcDMyLXRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQKszZsfU5IWehDAgqXY2+RlA5ZtArkhXe+bAkl3+vPKtcIxRMXBR5n" +
  "4TbZsSpNzDyZW231lno13OMz84XElcR8o1MwUTAdBgNVHQ4EFgQUD4MD4+eAHjdI4TRmmY8kn9Cw0wUwHwYDVR0jBBgwFoAUD4MD4+eAHjdI4TRmmY8kn9Cw0wUwDwYD" +
  "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBwNXoF6ivqM8+CMHdZDWc5MvyaIZCPSl4cbcIp+hC2vAIhAJdJ4pE8vKducatx6z3mBvxrMy+LAO+Ex+KjomT2" +
  "iYDC";

describe("SHA3-256 as EncryptionUtil.getSha3Hash", () => {
  it("matches the FIPS 202 test vectors (hard-coded, checked with Python's hashlib)", () => {
    expect(sha3Hex("")).toBe("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    expect(sha3Hex("abc")).toBe("3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  });
  it("hashes the UTF-8 bytes, lower-case hex", () => {
    expect(sha3Hex("ünïcødé")).toBe(refSha3("ünïcødé"));
    expect(sha3Hex("x")).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("ACCESS_TOKEN", () => {
  it("the id is the token itself, no value", () => {
    expect(accessTokenCredentials("A1b2C3")).toEqual({ credentialsType: "ACCESS_TOKEN", credentialsId: "A1b2C3", credentialsValue: null });
  });
  it("an empty token is refused with ThingsBoard's message", () => {
    expect(() => accessTokenCredentials("")).toThrow(new InvalidCredentialsError("Device credentials id should be specified!"));
  });
  it("generated tokens are 20 alphanumeric characters and do not repeat", () => {
    const tokens = new Set(Array.from({ length: 2000 }, generateAccessToken));
    expect(tokens.size).toBe(2000);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9]{20}$/);
    // Every class of character shows up: the alphabet is the full 62 characters.
    const all = [...tokens].join("");
    expect(all).toMatch(/[A-Z]/);
    expect(all).toMatch(/[a-z]/);
    expect(all).toMatch(/[0-9]/);
    expect(new Set(all).size).toBe(62);
    expect(randomAlphanumeric(7)).toHaveLength(7);
  });
});

describe("MQTT_BASIC (DeviceCredentialsServiceImpl.formatSimpleMqttCredentials)", () => {
  it("user name only: the id is the user name", () => {
    expect(mqttBasicCredentials({ clientId: "", userName: "u", password: "p" })).toEqual({
      credentialsType: "MQTT_BASIC",
      credentialsId: "u",
      credentialsValue: '{"clientId":"","userName":"u","password":"p"}',
    });
  });
  it("client id only: the id is sha3(clientId)", () => {
    const c = mqttBasicCredentials({ clientId: "c", userName: "", password: "" });
    expect(c.credentialsId).toBe(refSha3("c"));
    expect(c.credentialsValue).toBe('{"clientId":"c","userName":"","password":""}');
  });
  it('both: the id is sha3(clientId + "|" + userName)', () => {
    const c = mqttBasicCredentials({ clientId: "c", userName: "u", password: "p" });
    expect(c.credentialsId).toBe(refSha3("c|u"));
    expect(c.credentialsId).toBe("29cd886b96af386fd43e35097f8228b97209711642b8b65ebf118b288accb0ea"); // checked with hashlib
    expect(c.credentialsValue).toBe('{"clientId":"c","userName":"u","password":"p"}');
    expect(parseBasicMqttValue(c.credentialsValue)).toEqual({ clientId: "c", userName: "u", password: "p" });
  });
  it("client id and user name both empty is invalid", () => {
    expect(() => mqttBasicCredentials({ clientId: "", userName: "", password: "p" })).toThrow(
      new InvalidCredentialsError("Both mqtt client id and user name are empty!"),
    );
  });
  it("client id with a password but no user name is invalid", () => {
    expect(() => mqttBasicCredentials({ clientId: "c", userName: "", password: "p" })).toThrow(
      new InvalidCredentialsError("Password cannot be specified along with client id"),
    );
  });
  it("JSON-escapes what it stores", () => {
    const c = mqttBasicCredentials({ clientId: 'a"b', userName: "\\", password: "é" });
    expect(JSON.parse(c.credentialsValue!)).toEqual({ clientId: 'a"b', userName: "\\", password: "é" });
  });
  it("parseBasicMqttValue tolerates nothing but the stored object", () => {
    expect(parseBasicMqttValue(null)).toBeNull();
    expect(parseBasicMqttValue("not json")).toBeNull();
    expect(parseBasicMqttValue('"str"')).toBeNull();
  });
});

describe("X509_CERTIFICATE (EncryptionUtil.certTrimNewLines + getSha3Hash)", () => {
  it("stores the PEM body without armour or line breaks, keyed by its SHA3-256 hex", () => {
    const c = x509Credentials(CERT_PEM);
    expect(c.credentialsType).toBe("X509_CERTIFICATE");
    expect(c.credentialsValue).toBe(CERT_BODY);
    expect(c.credentialsId).toBe(refSha3(CERT_BODY));
    expect(c.credentialsId).toBe("36b4a9d10b490f196aee4834ca24ad54f2a742ccbde78a164460cba39dcfbeaf"); // checked with hashlib
  });
  it("CRLF line endings and a missing final newline give the same credentials", () => {
    expect(x509Credentials(CERT_PEM.replace(/\n/g, "\r\n"))).toEqual(x509Credentials(CERT_PEM));
    expect(x509Credentials(CERT_PEM.trimEnd())).toEqual(x509Credentials(CERT_PEM));
    expect(x509Credentials(CERT_BODY)).toEqual(x509Credentials(CERT_PEM)); // already stripped
  });
  it("removes only what ThingsBoard removes: markers, CR and LF; spaces stay", () => {
    expect(stripPem("-----BEGIN CERTIFICATE-----\r\nAB CD\n\tEF\n-----END CERTIFICATE-----\n")).toBe("AB CD\tEF");
  });
});
