/** `/api/auth/*`: login, token refresh, the current user, logout. */
import type { TenantAuth } from "./http-auth.js";
import { authFailed } from "./http-auth.js";
import { emptyReply, jsonReply, tbError, TbErrorCode } from "./http-reply.js";
import type { Router, RequestContext } from "./http-router.js";

export interface CurrentUser {
  id: string;
  email: string;
  tenantId: string;
  createdTime: number;
}

export function addAuthRoutes(router: Router, auth: TenantAuth, user: CurrentUser): void {
  router.post("/api/auth/login", async (r) => jsonReply(auth.login(await lenientJson(r))));
  // RestLoginProcessingFilter answers any other method with AuthMethodNotSupportedException.
  router.get("/api/auth/login", () => {
    throw tbError("Authentication method not supported", TbErrorCode.AUTHENTICATION);
  });
  router.post("/api/auth/token", async (r) => jsonReply(auth.refresh(await lenientJson(r))));
  router.get("/api/auth/user", () =>
    jsonReply({
      id: { entityType: "USER", id: user.id },
      createdTime: user.createdTime,
      tenantId: { entityType: "TENANT", id: user.tenantId },
      customerId: { entityType: "CUSTOMER", id: "13814000-1dd2-11b2-8080-808080808080" },
      email: user.email,
      authority: "TENANT_ADMIN",
      firstName: null,
      lastName: null,
      name: user.email,
      additionalInfo: {},
    }),
  );
  router.post("/api/auth/logout", () => emptyReply());
}

/** The login filters read the body themselves: unreadable JSON is an authentication failure, not a 400. */
async function lenientJson(r: RequestContext): Promise<unknown> {
  const raw = await r.rawBody();
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw authFailed();
  }
}
