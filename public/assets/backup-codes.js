// Ten backup codes, shown once: Copy, Download as .txt, and "I have saved these codes".
import { $, copy, download, focusStep, h, say, show } from "./ui.js";

let current = [];
let account = "";
let onDone = () => {};

export function backupCodesText(codes, email, now = new Date()) {
  return [
    `Edge 2FA backup codes${email ? ` for ${email}` : ""}`,
    `Generated ${now.toLocaleString()}. Each code works once; generating new codes makes these stop working.`,
    "Keep this file somewhere safe.",
    "",
    ...codes,
    "",
  ].join("\n");
}

export function showBackupCodes(codes, email, done) {
  current = codes;
  account = email;
  onDone = done;
  $("#codes-list").replaceChildren(...codes.map((c) => h("li", {}, c)));
  $("#codes-saved").checked = false;
  $("#codes-done").disabled = true;
  $("#codes-copy-status").textContent = "";
  show($("#codes-card"), true);
  focusStep($("#codes-card").querySelector("h2"));
  $("#codes-card").scrollIntoView({ block: "start" });
}

$("#codes-copy").addEventListener("click", (event) => copy(current.join("\n"), event.currentTarget, $("#codes-copy-status")));

$("#codes-download").addEventListener("click", () => {
  download("edge-2fa-backup-codes.txt", backupCodesText(current, account));
  $("#codes-copy-status").textContent = "Downloaded edge-2fa-backup-codes.txt.";
});

$("#codes-saved").addEventListener("change", (event) => {
  $("#codes-done").disabled = !event.currentTarget.checked;
});

$("#codes-done").addEventListener("click", () => {
  // The codes leave the page: they were shown once, as promised.
  current = [];
  $("#codes-list").replaceChildren();
  show($("#codes-card"), false);
  say($("#flash"), "");
  onDone();
});
