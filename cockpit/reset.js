// SPDX-License-Identifier: BSD-3-Clause
// Reset one or several accounts (pwresetctl reset [--print] [--no-lock] USER…), show a result
// for each, and the hand-over sheets of the codes to give by hand, ready for the browser's
// print (the PDF). The sheet's words are pwresetctl's own; the QR code is its SVG, shown as
// an image (never as markup of this page).
import { ctl } from "./ctl.js";
import { $, el, clear } from "./dom.js";
import { when } from "./words.js";

let pending = null; // the accounts, while the dialog is open
let done = () => {}; // the page reloads what a reset changed

export function setupReset(reload) {
    done = reload;
    $("reset-form").addEventListener("submit", ev => {
        ev.preventDefault();
        const job = pending;
        $("reset-dialog").close();
        if (job)
            run(job, $("deliver-print").checked, $("reset-nolock").checked);
    });
    $("reset-cancel").addEventListener("click", () => $("reset-dialog").close());
    $("reset-dialog").addEventListener("close", () => { pending = null; });
    for (const radio of document.getElementsByName("delivery"))
        radio.addEventListener("change", explain);
    $("close-results").addEventListener("click", closeResults);
    $("print-sheets").addEventListener("click", () => window.print());
}

/* Ask first: a reset locks the password (unless told not to). */
export function askReset(users, print) {
    pending = users;
    $("reset-title").textContent = users.length === 1 ? `Reset ${users[0]}` : `Reset ${users.length} accounts`;
    $(print ? "deliver-print" : "deliver-mail").checked = true;
    $("reset-nolock").checked = false;
    explain();
    $("reset-dialog").showModal();
}

function explain() {
    const users = pending || [];
    const who = users.length === 1 ? users[0] : `${users.length} accounts (${users.join(", ")})`;
    const print = $("deliver-print").checked;
    $("reset-what").textContent = print
        ? `A code is made for ${who} and shown on a sheet to print and hand over.`
        : `A code is mailed to the recovery address of ${who}; an account without one gets a sheet to print and hand over.`;
    $("reset-confirm").textContent = print ? "Reset and make sheets" : "Reset and mail";
}

function run(users, print, noLock) {
    const args = ["reset"];
    if (print)
        args.push("--print");
    if (noLock)
        args.push("--no-lock");
    args.push("--", ...users);
    showResults([{ user: users.join(", "), busy: true }]);
    ctl(args)
        .then(answer => showResults(answer.results || []))
        .catch(ex => showResults([{ user: users.join(", "), ok: false, error: ex.message }]))
        .finally(done);
}

function lockWords(r) {
    if (r.random_password)
        return "password replaced by a random one (the directory has no ppolicy)";
    return r.locked ? "password locked" : "password unchanged";
}

function resultLine(r) {
    if (r.busy)
        return el("li", { class: "busy" }, `Resetting ${r.user}…`);
    if (!r.ok)
        return el("li", { class: "failed", "data-user": r.user }, el("strong", {}, r.user), ": ",
                  r.error || "failed");
    const how = r.mailed
        ? `code mailed to the recovery address, valid until ${when(r.expires)}`
        : `code on the sheet below, valid until ${when(r.expires)}`;
    return el("li", { class: "ok", "data-user": r.user }, el("strong", {}, r.user), `: ${lockWords(r)}; ${how}`);
}

function sheet(r) {
    const svg = "data:image/svg+xml;base64," + window.btoa(r.qr_svg);
    return el("article", { class: "sheet", "data-user": r.user, "aria-label": `Hand-over sheet for ${r.user}` },
              el("pre", { class: "sheet-text" }, r.sheet),
              el("img", { class: "qr", src: svg, alt: `QR code of the reset code for ${r.user}` }));
}

function showResults(results) {
    const list = $("result-list");
    clear(list);
    clear($("sheets"));
    for (const r of results)
        list.append(resultLine(r));
    const sheets = results.filter(r => r.ok && r.code && r.sheet && r.qr_svg);
    for (const r of sheets)
        $("sheets").append(sheet(r));
    $("sheets").hidden = sheets.length === 0;
    $("print-sheets").hidden = sheets.length === 0;
    $("results").hidden = false;
    $("results").scrollIntoView({ block: "nearest" });
}

/* The codes leave the page with the results. */
function closeResults() {
    clear($("result-list"));
    clear($("sheets"));
    $("sheets").hidden = true;
    $("results").hidden = true;
    $("accounts-title").focus();
}
