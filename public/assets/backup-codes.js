// Ten backup codes, shown once: Copy, Download as .txt, Print, and "I have saved these codes".
import { formatDateTime, t } from "./i18n.js";
import { $, copy, download, focusStep, h, say, show } from "./ui.js";

let current = [];
let account = "";
let onDone = () => {};

/** The downloaded file, in the page's language; the codes one per line. */
export function backupCodesText(codes, email, now = new Date()) {
  return [t("codes.fileTitle", { account: email }), t("codes.fileGenerated", { date: formatDateTime(now) }), t("codes.fileKeep"), "", ...codes, ""].join("\n");
}

// Leaving while the codes are on screen loses them for good: the browser asks first.
function guard(event) {
  event.preventDefault();
  event.returnValue = "";
}

export function showBackupCodes(codes, email, done) {
  current = codes;
  account = email;
  onDone = done;
  $("#codes-list").replaceChildren(...codes.map((c) => h("li", {}, c)));
  // What a printed sheet says besides the codes: whose they are and when they were made.
  $("#codes-print-account").textContent = t("codes.printAccount", { account: email });
  $("#codes-print-date").textContent = t("codes.printDate", { date: formatDateTime(new Date()) });
  $("#codes-saved").checked = false;
  $("#codes-done").disabled = true;
  $("#codes-copy-status").textContent = "";
  show($("#codes-card"), true);
  window.addEventListener("beforeunload", guard);
  focusStep($("#codes-card").querySelector("h2"));
  $("#codes-card").scrollIntoView({ block: "start" });
}

$("#codes-copy").addEventListener("click", (event) => copy(current.join("\n"), event.currentTarget, $("#codes-copy-status")));

$("#codes-download").addEventListener("click", () => {
  const file = "edge-2fa-backup-codes.txt";
  download(file, backupCodesText(current, account));
  $("#codes-copy-status").textContent = t("codes.downloaded", { file });
});

// The print stylesheet (style.css, @media print) keeps only the codes, the account and the date.
$("#codes-print").addEventListener("click", () => window.print());

$("#codes-saved").addEventListener("change", (event) => {
  $("#codes-done").disabled = !event.currentTarget.checked;
});

$("#codes-done").addEventListener("click", () => {
  // The codes leave the page: they were shown once, as promised.
  current = [];
  $("#codes-list").replaceChildren();
  show($("#codes-card"), false);
  window.removeEventListener("beforeunload", guard);
  say($("#flash"), "");
  say($("#codes-status"), "");
  onDone();
});
