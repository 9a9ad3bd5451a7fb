import type { Context } from "hono";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { publicOrigin } from "../http/public-origin";
import { DEFAULT_LANG } from "../notify/language";
import { verifyEmailMail } from "../notify/templates";
import type { SessionUser } from "../session";

/**
 * Emails `user` a fresh verification link (24 hours; the older one stops
 * working), at signup and on request. Nothing is sent once the email is proven.
 */
export async function sendVerificationLink(c: Context<AppEnv>, user: SessionUser): Promise<void> {
  const origin = publicOrigin(c.env, c.get("meta"));
  const caller = callerOf(c, user);
  await guardFor(c.env, user.id).issueToken(caller, "verify_email", {
    ...verifyEmailMail({ origin, at: caller.now }, caller.lang ?? DEFAULT_LANG),
    template: "verify_email",
  });
}
