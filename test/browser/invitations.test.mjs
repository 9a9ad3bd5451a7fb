// /invitations keeps an invitation link's token for the tab (sessionStorage) while the
// person logs in or signs up, and the login page sends them back to it while it is
// there (docs/pages.md). A refusal that trying again cannot change must forget it, or
// every visit to the account page in that tab comes back here; a refusal that may
// pass on a second try keeps it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, call } from "./accounts.mjs";
import { mailedToken } from "./mail.mjs";
import { assertNoProblems, useBrowser } from "./support.mjs";

const chrome = useBrowser();

/** An owner with a community, an invitee (verified, logged in) and the invitation's id and emailed token. */
async function invited(prefix) {
  const owner = await account(chrome.browser, { name: "Olga Owner", community: `${prefix} Club`, prefix: `${prefix}-owner` });
  const invitee = await account(chrome.browser, { name: "Ivan Invitee", prefix: `${prefix}-invitee` });
  const { invitation } = await call(owner.context, "POST", `/api/communities/${owner.communityId}/invitations`, { email: invitee.email, role: "member" });
  return { owner, invitee, id: invitation.id, token: await mailedToken("invitations", invitation.id) };
}

const stored = (page) => page.evaluate(() => sessionStorage.getItem("invitationToken"));

/** The account page stays the account page: the tab no longer holds an invitation to go back to. */
async function homeStays(page, name) {
  await page.goto("/");
  await page.getByRole("heading", { name: `Hello, ${name}` }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/");
}

for (const [refusal, spoil] of [
  // A link whose secret is wrong (cut short by a mail client, mistyped): 400 invalid_token.
  ["a wrong token (400 invalid_token)", async ({ id }) => ({ token: `${id}.${"W".repeat(43)}` })],
  // The invitation was accepted in another tab after this page showed it: 404 not_found.
  [
    "an invitation used elsewhere meanwhile (404 not_found)",
    async ({ id, token, invitee }) => ({ token, before: () => call(invitee.context, "POST", `/api/invitations/${id}/accept`, { token }) }),
  ],
]) {
  test(`a final refusal forgets the invitation and says why: ${refusal}`, async () => {
    const setup = await invited(refusal.startsWith("a wrong") ? "wrong" : "used");
    const { token, before } = await spoil(setup);
    const page = setup.invitee.page;
    await page.goto(`/invitations#token=${token}`);
    const accept = page.getByRole("button", { name: "Accept the invitation" });
    await accept.waitFor();
    await before?.();
    await accept.click();
    await page
      .getByRole("alert")
      .getByText(/This invitation link no longer works/)
      .waitFor();
    assert.equal(await stored(page), null, "the dead token is forgotten");
    assert.equal(await accept.isVisible(), false, "a button that can only fail again is gone");
    await page.getByRole("link", { name: "Go to your account" }).click();
    await page.getByRole("heading", { name: "Hello, Ivan Invitee" }).waitFor();
    await homeStays(page, "Ivan Invitee");
    assertNoProblems(page);
  });
}

test("a refusal that may pass next time (the network) keeps the invitation: the same button then joins", async () => {
  const { invitee, token } = await invited("retry");
  const page = invitee.page;
  await page.goto(`/invitations#token=${token}`);
  const accept = page.getByRole("button", { name: "Accept the invitation" });
  await accept.waitFor();
  await page.route("**/api/invitations/*/accept", (route) => route.abort("internetdisconnected"));
  await accept.click();
  await page.getByRole("alert").getByText("Could not reach the server. Check your connection and try again.").waitFor();
  assert.equal(await stored(page), token, "kept for the next try");
  await page.unroute("**/api/invitations/*/accept");
  await accept.click();
  await page
    .getByRole("status")
    .getByText(/You joined the community/)
    .waitFor();
  assert.equal(await stored(page), null);
  await homeStays(page, "Ivan Invitee");
  // The cut connection is the one error the console may show.
  assert.deepEqual(
    page.problems.filter((p) => !p.includes("ERR_INTERNET_DISCONNECTED")),
    [],
  );
});
