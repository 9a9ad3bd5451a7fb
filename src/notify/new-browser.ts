import type { MailContent } from "./templates";
import { describeUserAgent } from "./user-agent";

/**
 * The new-browser alert: someone completed a full login to the account from a
 * browser that had not logged in to it before. When, from where (the address
 * and the browser in words from a fixed list, never the raw User-Agent: see
 * user-agent.ts), and what to do if it was not the user: the password-reset
 * page, which asks for the email and sends its own link. The alert itself
 * carries no token, so forwarding or leaking it gives nobody anything. The
 * subject is fixed: no name anyone typed ever goes into it.
 */
export function newBrowserMail(input: { at: number; ip: string | null; userAgent: string | null; origin: string }): MailContent {
  const ip = input.ip && /^[0-9A-Fa-f:.]{2,45}$/.test(input.ip) ? input.ip : "unknown address";
  return {
    subject: "New sign-in to your account from a new browser",
    text: [
      "Your account was just signed in to from a browser that had not signed in to it before.",
      "",
      `When: ${new Date(input.at).toUTCString()}`,
      `From: ${ip} (${describeUserAgent(input.userAgent)})`,
      "",
      "If this was you, there is nothing to do.",
      "",
      `If this was not you, someone knows your password. Reset it now at ${input.origin}/reset-password (this also signs every session out), then check the sessions listed on your Security page: ${input.origin}/security`,
      "",
    ].join("\n"),
  };
}
