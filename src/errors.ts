/**
 * The root of every error the SDK throws: `code` is a stable kebab-case name a log or a program can switch on,
 * `message` says what a person can do about it and never contains a secret. Each layer (mqtt, thingsboard,
 * credentials, device) derives its own base from this, so `catch (e) { if (e instanceof SdkError) … }` covers all.
 */
export class SdkError extends Error {
  override name = "SdkError";
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
