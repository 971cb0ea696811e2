/**
 * The server's CA certificate built into the firmware as a resource (DER), for fleets that pin one CA for every
 * board: add `"resources": {"*": "./tb-ca"}` (a file tb-ca.der) to the app's manifest. A CA in the factory NVS
 * namespace or mc/config (tb_ca) wins over it.
 */
import Resource from "Resource";

export const CA_RESOURCE = "tb-ca.der";

/** The DER bytes of the CA resource, copied out of flash, or undefined when the firmware has none. */
export function caFromResource(name: string = CA_RESOURCE): Uint8Array | undefined {
  if (!Resource.exists(name)) return undefined;
  const r = new Resource(name);
  return r.byteLength > 0 ? new Uint8Array(r.slice(0)) : undefined;
}
