import { describe, expect, it } from "vitest";
import { Client, expectProblem } from "./support/client";
import { newUser, PASSWORD, reauth, uniqueEmail } from "./support/fixtures";

/**
 * A new password is hashed as UTF-8 (src/auth/passwords.ts), and UTF-8 has no
 * spelling for half of a UTF-16 pair (a lone surrogate, which JSON can send as
 * `\uD800`): every one of the 2,048 becomes the same U+FFFD. A password made
 * of them would be stored as a different, weaker one, and any other lone
 * surrogates in their places would open the account.
 */

// Sixteen lone high surrogates after a word, and the same word with sixteen different lone low ones.
const HALVES = `staple${"\uD83D".repeat(16)}`;
const OTHER_HALVES = `staple${"\uDFFF".repeat(16)}`;

describe("new passwords with lone surrogates", () => {
  it("signup refuses one (400, no account), so no other surrogates can log in for it", async () => {
    const email = uniqueEmail("halves");
    const client = new Client();
    const res = await client.request("POST", "/api/auth/signup", { email, password: HALVES, name: "Sam" });
    await expectProblem(res, 400, "invalid_request");
    await expectProblem(await new Client().request("POST", "/api/auth/login", { email, password: OTHER_HALVES }), 401, "invalid_credentials");
  });

  it("a password change refuses one, and the old password still works", async () => {
    const user = await newUser();
    await reauth(user.client);
    const res = await user.client.request("POST", "/api/security/password", { currentPassword: PASSWORD, newPassword: HALVES });
    await expectProblem(res, 400, "invalid_request");
    expect((await new Client().request("POST", "/api/auth/login", { email: user.email, password: PASSWORD })).status).toBe(200);
    await expectProblem(await new Client().request("POST", "/api/auth/login", { email: user.email, password: OTHER_HALVES }), 401, "invalid_credentials");
  });
});
