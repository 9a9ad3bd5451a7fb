import type { Entry } from "./entry";

/**
 * Every word of every email, in English: the reference catalogue. Every other
 * language (fr.ts) has exactly these keys, each with the same `{placeholders}`
 * (test/mail-catalogues.test.ts). How to add an email: docs/email.md.
 *
 * Keys: `<template>.subject` and `<template>.<part>`, one template per email;
 * `common.*`, `browser.*` and `names.*` are shared. A subject is a fixed
 * sentence: it never has a placeholder for a name someone typed. Such names
 * appear only through `names.*` lines, where the template puts them quoted as
 * data; a user's own method name may stand in a sentence, quoted the same way.
 */
export const en = {
  // ---- shared by every security email --------------------------------------
  "common.when": "When: {time}",
  "common.from": "From: {address} ({browser})",
  "common.unknownAddress": "unknown address",
  "common.ifNotYou": "If this was not you, change your password now and ask an admin of your community to reset your two-factor authentication.",

  // The browser as described from a fixed vocabulary (src/notify/user-agent.ts): {browser} and {system} are product names.
  "browser.onSystem": "{browser} on {system}",
  "browser.anyOnSystem": "a browser or app on {system}",
  "browser.unknown": "unknown browser",
  "browser.unrecognised": "unrecognised browser or app",

  // A name someone typed, on a line of its own; {name} arrives already quoted ("…").
  "names.admin": "Admin, as they typed their name: {name}",
  "names.community": "Community name, as its admins typed it: {name}",
  "names.invitedBy": "Invited by, as they typed their name: {name}",
  "names.resettingAdmin": "Admin who reset it, as they typed their name: {name}",
  "names.resetAdmin": "Admin whose two-factor authentication was reset, as they typed their name: {name}",
  "names.resetAdminEmail": "Their email address: {email}",

  // ---- the user's own security events (template = event type) ------------
  "two_factor_enabled.subject": "Two-factor authentication is on",
  "two_factor_enabled.body": "Two-factor authentication was turned on for your account.",

  "two_factor_disabled.subject": "Two-factor authentication was turned off",
  "two_factor_disabled.body": "Two-factor authentication was turned off for your account. Your password alone now logs you in.",

  "method_added.subject": "A two-factor method was added",
  "method_added.body.totp": "A new authenticator app {name} was added to your account.",
  "method_added.body.webauthn": "A new security key {name} was added to your account.",

  "method_removed.subject": "A two-factor method was removed",
  "method_removed.body.totp": "The authenticator app {name} was removed from your account. Your other sessions were logged out.",
  "method_removed.body.webauthn": "The security key {name} was removed from your account. Your other sessions were logged out.",

  "backup_codes_regenerated.subject": "New backup codes were generated",
  "backup_codes_regenerated.body": "New backup codes were generated for your account. Your old backup codes no longer work.",

  "backup_code_used.subject": "A backup code was used to log in",
  "backup_code_used.body": {
    one: "A backup code was used to log in to your account. {count} backup code remains.",
    other: "A backup code was used to log in to your account. {count} backup codes remain.",
  },

  "recovery_code_issued.subject": "Your two-factor authentication was reset",
  "recovery_code_issued.body":
    "An admin of a community you belong to reset your two-factor authentication. All your sessions were logged out and your methods and backup codes were removed. Log in with your password and the single-use recovery code the admin gives you (valid 24 hours), then set up a new method.",
  "recovery_code_issued.advice": "If you did not ask for this reset, contact the admin and change your password.",

  "recovery_code_used.subject": "A recovery code was used",
  "recovery_code_used.body": "A recovery code was used to log in to your account. Set up a new two-factor method to finish.",

  "new_browser_login.subject": "New sign-in to your account from a new browser",
  "new_browser_login.body": "Your account was just signed in to from a browser that had not signed in to it before.",
  "new_browser_login.ifYou": "If this was you, there is nothing to do.",
  "new_browser_login.ifNotYou":
    "If this was not you, someone knows your password. Reset it now at {resetUrl} (this also signs every session out), then check the sessions listed on your Security page: {securityUrl}",

  "locked_out.subject": "Two-factor login locked {duration}",
  "locked_out.body": "Too many wrong two-factor codes were entered for your account, so two-factor login is locked {duration}.",
  "locked_out.advice": "If this was not you, someone knows your password: change it now.",
  "locked_out.for.minutes": { one: "for {count} minute", other: "for {count} minutes" },
  "locked_out.for.hours": { one: "for {count} hour", other: "for {count} hours" },

  "key_counter_anomaly.subject": "A security key may have been cloned",
  "key_counter_anomaly.body":
    "A login with your security key {name} was refused because its signature counter went backwards, which can mean the key was cloned.",

  // ---- communities -----------------------------------------------------------
  "member_left.subject": "You left a community",
  "member_left.body": "You left a community. Its admins can no longer see you in its members list or reset your two-factor authentication.",
  "member_left.advice": "If this was not you, change your password now and ask the community's admins to invite you again.",

  "member_removed.subject": "You were removed from a community",
  "member_removed.body": "An admin removed you from a community. Its admins can no longer see you in its members list or reset your two-factor authentication.",
  "member_removed.advice": "If you did not expect this, ask the community's admins; only a new invitation you accept makes you a member again.",

  "password_changed.subject": "Your password was changed",
  "password_changed.body":
    "The password of your account was changed from its Security page. Every other session was logged out and every remembered browser was forgotten.",
  "password_changed.advice":
    'If this was not you, reset your password now from the login page ("Forgot password?") and ask an admin of your community to reset your two-factor authentication.',

  "password_reset.subject": "Your password was changed",
  "password_reset.body.twoFactorKept":
    "The password of your account was reset through a link sent to this address. Every session was logged out and every remembered browser was forgotten. Two-factor authentication stays on.",
  "password_reset.body.twoFactorRemoved":
    "The password of your account was reset through a link sent to this address. Every session was logged out and every remembered browser was forgotten. Your email address had never been confirmed, so the two-factor methods and backup codes set up on the account were removed: set up a new method after you log in. The account also left every community in which someone else is an admin, and the invitations sent from it that nobody had accepted were withdrawn: whoever set the account up may have chosen those admins.",

  // ---- emails that carry a single-use link (the link is a line of its own) --
  "account.verify_email.subject": "Confirm your email address",
  "account.verify_email.body": "Confirm that this email address is yours by opening this link (valid 24 hours, once):",
  "account.verify_email.until": "Until you do, you cannot join a community by invitation.",
  "account.verify_email.advice":
    'If you did not sign up, ignore this email: the account stays unconfirmed, and whoever made it cannot use your address to join a community. If you ever want the account, reset its password from the login page ("Forgot password?"): that also removes any two-factor method someone else set up on it.',

  "account.password_reset_link.subject": "Reset your password",
  "account.password_reset_link.body":
    "Someone asked to reset the password of the account with this email address. To choose a new password, open this link (valid 30 minutes, once):",
  "account.password_reset_link.effect":
    "Resetting the password logs out every session and forgets every remembered browser. Two-factor authentication stays on: you will still need your second factor at the next login.",
  "account.password_reset_link.advice": "If you did not ask for this, ignore this email: your password has not changed. A newer request replaces this link.",

  "account.device_link.subject": "Sign in from your browser",
  "account.device_link.body":
    "Your correct password was just entered from a browser that has not logged in to your account before, while logins to your account were being slowed down after many wrong passwords. That login was refused for now.",
  "account.device_link.ifYou":
    "If it was you, open this link in that same browser (valid 15 minutes, once). It lets that browser log in even while someone else keeps getting your password wrong:",
  "account.device_link.ifNotYou": 'If it was not you, someone knows your password: reset it now from the login page ("Forgot password?").',

  "invitation.subject": "You are invited to join a community",
  "invitation.body.member": "Someone invited this email address to join a community as a member.",
  "invitation.body.admin": "Someone invited this email address to join a community as an admin.",
  "invitation.accept":
    "To accept, open this link. You will log in, or sign up with this email address, and then accept:\n\n{link}\n\nThe invitation expires {time}. The link works once.",
  "invitation.advice":
    "If you do not know this community or did not expect this, ignore this email: nothing happens unless you accept. The names above are not checked by us; do not follow instructions in them. Admins of a community you join can reset your two-factor authentication.",

  "admin_reset_notice.subject": "An admin of your community had their two-factor authentication reset",
  "admin_reset_notice.body":
    "An admin of a community you administer reset the two-factor authentication of another admin of that community. The reset admin can now log in with their password and a single-use recovery code.",
  "admin_reset_notice.body.elsewhere":
    "An admin of another community, which the reset admin also belongs to, reset the two-factor authentication of an admin of a community you administer. The reset admin can now log in with their password and a single-use recovery code, and act as an admin of your community.",
  "admin_reset_notice.advice": "If you did not expect this, talk to both admins by a channel you trust. An admin can remove another admin from the community.",
  "admin_reset_notice.body.operator":
    "The operator of this service reset the two-factor authentication of an admin of a community you administer. The reset admin can now log in with their password and a single-use recovery code.",
  "admin_reset_notice.byOperator": "Reset by: the operator of this service",
  "admin_reset_notice.advice.operator":
    "If you did not expect this, talk to the reset admin by a channel you trust. An admin can remove another admin from the community.",

  "recovery_code_issued.body.operator":
    "The operator of this service reset your two-factor authentication, as you asked them to. All your sessions were logged out and your methods and backup codes were removed. Log in with your password and the single-use recovery code the operator gives you (valid 24 hours), then set up a new method.",
  "recovery_code_issued.advice.operator": "If you did not ask for this reset, reply to the operator at once and change your password.",

  "policy_changed_notice.subject": "The two-factor policy of a community you administer changed",
  "policy_changed_notice.body": "An admin changed the two-factor policy of a community you administer.",
  "policy_changed_notice.required": {
    one: "Two-factor authentication is required. Members without it have {count} day to set it up (counted from when the requirement started, or from when they joined if later); after that, their next login asks them to set it up before anything else.",
    other:
      "Two-factor authentication is required. Members without it have {count} days to set it up (counted from when the requirement started, or from when they joined if later); after that, their next login asks them to set it up before anything else.",
  },
  "policy_changed_notice.notRequired": "Two-factor authentication is not required.",
  "policy_changed_notice.trusted": "Members may let a browser skip the second login step for 30 days.",
  "policy_changed_notice.notTrusted": "Members may not let a browser skip the second login step; browsers they trusted are forgotten.",
  "policy_changed_notice.advice": "If you did not expect this, talk to the community's other admins by a channel you trust.",
} as const satisfies Record<string, Entry>;

export type MailKey = keyof typeof en;
/** What every language's catalogue is: the English keys, each with its words. */
export type MailCatalogue = { readonly [key in MailKey]: Entry };
