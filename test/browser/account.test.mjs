// The account journey on the real login page: sign up with a community,
// see who you are, log out, log in again, log out.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account } from "./accounts.mjs";
import { assertNoProblems, launch, logOut, newPage, signUp, submitLogin, uniqueEmail, useBrowser } from "./support.mjs";

const chrome = useBrowser();

test("sign up with a community, see who you are, log out, log in again, log out", async () => {
  const page = await newPage(chrome.browser);
  const email = uniqueEmail("account");
  await signUp(page, { name: "Grace Hopper", email, community: "Compilers Guild" });

  // Who you are: name, email, 2FA state, the community with the admin role and a link to /admin.
  await page.getByText(`You are logged in as ${email}.`).waitFor();
  await page.getByText("Two-factor authentication is off").waitFor();
  const communities = page.getByRole("region", { name: "Communities" });
  await communities.getByText("Compilers Guild").waitFor();
  await communities.getByText("Admin", { exact: true }).waitFor();
  assert.equal(await page.getByRole("navigation").getByRole("link", { name: "Admin" }).count(), 1);

  await logOut(page);
  assert.equal((await page.request.get("/api/me")).status(), 401, "logging out ends the session on the server");

  await submitLogin(page, email);
  await page.getByRole("heading", { name: "Hello, Grace Hopper" }).waitFor();
  assert.equal((await page.request.get("/api/me")).status(), 200);
  await page.reload();
  await page.getByRole("heading", { name: "Hello, Grace Hopper" }).waitFor();

  await logOut(page);
  await page.reload();
  await page.getByRole("region", { name: "Log in" }).waitFor();
  assertNoProblems(page);
});

test("mistakes are explained in words: a wrong password, a taken email, a short password", async () => {
  const page = await newPage(chrome.browser);
  const email = uniqueEmail("mistakes");
  await signUp(page, { name: "Ada", email });
  await logOut(page);

  await submitLogin(page, email, "not the right password at all");
  const login = page.getByRole("region", { name: "Log in" });
  await login.getByRole("alert").getByText("The email or password is wrong.").waitFor();
  assert.equal((await page.request.get("/api/me")).status(), 401);

  await page.getByRole("button", { name: "Create an account" }).click();
  const signup = page.getByRole("region", { name: "Create an account" });
  await signup.getByLabel("Your name").fill("Someone Else");
  await signup.getByLabel("Email").fill(email);
  const password = signup.getByLabel("Password", { exact: true });
  await password.fill("too short");
  await signup.getByText("6 more characters to go").waitFor();
  await password.fill("long enough pass phrase");
  await signup.getByText("Long enough").waitFor();
  await signup.getByRole("button", { name: "Create account" }).click();
  await signup
    .getByRole("alert")
    .getByText(/already exists/)
    .waitFor();
  assertNoProblems(page);
});

for (const [locale, words] of [
  ["en-US", { logOut: "Log out", logIn: "Log in" }],
  ["fr-FR", { logOut: "Se déconnecter", logIn: "Connexion" }],
]) {
  for (const where of ["navigation", "main"]) {
    test(`the ${where === "main" ? "home page's" : "header's"} Log out button is busy while logging out: a double click logs out once (${locale})`, async () => {
      const user = await account(chrome.browser, { name: "Dora Double", prefix: "dblclick", locale });
      const page = user.page;
      await page.goto("/");
      const button = await page.getByRole(where).getByRole("button", { name: words.logOut }).elementHandle();
      // The server's answer is held until the button has been looked at, so the busy state can be seen.
      const sent = [];
      let answer;
      const held = new Promise((resolve) => {
        answer = resolve;
      });
      await page.route("**/api/auth/logout", async (route) => {
        sent.push(route.request().url());
        await held;
        await route.continue();
      });
      await button.dblclick();
      assert.equal(await button.isDisabled(), true, "disabled while logging out");
      assert.equal(await button.getAttribute("aria-busy"), "true");
      answer();
      await page.getByRole("heading", { name: words.logIn }).waitFor();
      assert.equal(sent.length, 1, "one logout request");
      assert.equal((await page.request.get("/api/me")).status(), 401);
      assertNoProblems(page);
    });
  }
}

// A shared computer: after Log out, the browser's Back button must not show the
// account again from the back/forward cache (docs/pages.md "After logging out").
test("after logging out, Back shows the login page, not the account's Security page", async (t) => {
  const browser = await launch({ backForwardCache: true });
  t.after(() => browser.close());
  const { page } = await account(browser, { name: "Bea Back", community: "Backs" });
  await page.goto("/security");
  const security = page.getByRole("heading", { name: "Security", level: 1 });
  await security.waitFor();
  await logOut(page);
  // A page restored from the cache fires no load event: wait for the navigation only.
  await page.goBack({ waitUntil: "commit" });
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  assert.equal(await security.count(), 0, "nothing of the account is shown after Back");
  assertNoProblems(page);
});
