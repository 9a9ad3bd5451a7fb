import { TOKEN_SLOT } from "../lib/email-token";
import type { MailContent } from "./templates";

/**
 * Emails that carry a single-use link. Each link puts its token after `#`
 * (never in the path or query: it stays out of logs and Referer), written as
 * TOKEN_SLOT here: the guard seals the token and puts it in only at delivery
 * (src/guard/sealed-token.ts). `origin` is the service's configured one
 * (src/http/public-origin.ts), never a request's Host elsewhere than localhost.
 */

function link(origin: string, page: string): string {
  return `${origin}/${page}#token=${TOKEN_SLOT}`;
}

export function verifyEmailMail(origin: string): MailContent {
  return {
    subject: "Confirm your email address",
    text: [
      "Confirm that this email address is yours by opening this link (valid 24 hours, once):",
      "",
      link(origin, "verify-email"),
      "",
      "Until you do, you cannot join a community by invitation.",
      "",
      'If you did not sign up, ignore this email: the account stays unconfirmed, and whoever made it cannot use your address to join a community. If you ever want the account, reset its password from the login page ("Forgot password?"): that also removes any two-factor method someone else set up on it.',
      "",
    ].join("\n"),
  };
}

export function passwordResetMail(origin: string): MailContent {
  return {
    subject: "Reset your password",
    text: [
      "Someone asked to reset the password of the account with this email address. To choose a new password, open this link (valid 30 minutes, once):",
      "",
      link(origin, "reset-password"),
      "",
      "Resetting the password logs out every session. Two-factor authentication stays on: you will still need your second factor at the next login.",
      "",
      "If you did not ask for this, ignore this email: your password has not changed. A newer request replaces this link.",
      "",
    ].join("\n"),
  };
}

export function deviceLinkMail(origin: string): MailContent {
  return {
    subject: "Sign in from your browser",
    text: [
      "Your correct password was just entered from a browser that has not logged in to your account before, while logins to your account were being slowed down after many wrong passwords. That login was refused for now.",
      "",
      "If it was you, open this link in that same browser (valid 15 minutes, once). It lets that browser log in even while someone else keeps getting your password wrong:",
      "",
      link(origin, "device"),
      "",
      'If it was not you, someone knows your password: reset it now from the login page ("Forgot password?").',
      "",
    ].join("\n"),
  };
}
