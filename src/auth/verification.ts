import type { Context } from "hono";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { publicOrigin } from "../http/public-origin";
import { verifyEmailMail } from "../notify/account-mails";
import type { SessionUser } from "../session";

/**
 * Emails `user` a fresh verification link (24 hours; the older one stops
 * working), at signup and on request. Nothing is sent once the email is proven.
 */
export async function sendVerificationLink(c: Context<AppEnv>, user: SessionUser): Promise<void> {
  const origin = publicOrigin(c.env, c.get("meta"));
  await guardFor(c.env, user.id).issueToken(callerOf(c, user), "verify_email", { ...verifyEmailMail(origin), template: "verify_email" });
}
