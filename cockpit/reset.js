// SPDX-License-Identifier: BSD-3-Clause
// Reset one or several accounts (pwresetctl reset [--print] [--no-lock] USER…), show a result
// for each, and the hand-over sheets of the codes to give by hand, laid out for the browser's
// print (the PDF). The sheet's words are pwresetctl's own, in the account's language; the QR
// code is its SVG, shown as an image (never as markup of this page).
import { ctl } from "./ctl.js";
import { $, el, clear } from "./dom.js";
import { _, fmt, ngettext, when } from "./words.js";

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
    $("reset-title").textContent = users.length === 1 ? fmt(_("Reset $0"), users[0]) : ngettext("Reset $0 account", "Reset $0 accounts", users.length);
    $(print ? "deliver-print" : "deliver-mail").checked = true;
    $("reset-nolock").checked = false;
    explain();
    $("reset-dialog").showModal();
}

function explain() {
    const users = pending || [];
    const who = users.length === 1 ? users[0]
        : fmt(_("$0 ($1)"), ngettext("$0 account", "$0 accounts", users.length), users.join(", "));
    const print = $("deliver-print").checked;
    $("reset-what").textContent = print
        ? fmt(_("A code is made for $0 and shown on a sheet to print and hand over."), who)
        : fmt(_("A code is mailed to the recovery address of $0; an account without one gets a sheet to print and hand over."), who);
    $("reset-confirm").textContent = print ? _("Reset and make sheets") : _("Reset and mail");
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
        return _("password replaced by a random one (the directory offers no lock)");
    return r.locked ? _("password locked") : _("password unchanged");
}

function resultLine(r) {
    if (r.busy)
        return el("li", { class: "busy" }, fmt(_("Resetting $0…"), r.user));
    if (!r.ok)
        return el("li", { class: "failed", "data-user": r.user }, el("strong", {}, r.user), ": ",
                  r.error || _("failed"));
    const how = r.mailed
        ? fmt(_("code mailed to the recovery address, valid until $0"), when(r.expires))
        : fmt(_("code on the sheet below, valid until $0"), when(r.expires));
    return el("li", { class: "ok", "data-user": r.user }, el("strong", {}, r.user), `: ${lockWords(r)}; ${how}`);
}

/* A sheet for paper, in the words pwresetctl gives for the account ("paper", in its
   language): the title, the code large with the QR code beside it, the facts, the steps, and
   how to keep it. */
function sheet(r) {
    const p = r.paper;
    const svg = "data:image/svg+xml;base64," + window.btoa(r.qr_svg);
    const facts = el("dl", { class: "facts" });
    for (const f of p.facts)
        facts.append(el("dt", {}, f.label), el("dd", {}, f.value));
    const steps = el("ol", { class: "sheet-steps" });
    for (const step of p.steps)
        steps.append(el("li", {}, step));
    return el("article", { class: "sheet", lang: p.language.replace(/[._@].*/, "") || "en", "data-user": r.user,
                           "aria-label": fmt(_("Hand-over sheet for $0"), r.user) },
              el("h2", {}, p.title),
              el("div", { class: "sheet-main" },
                 el("div", {},
                    el("p", { class: "sheet-code-label" }, p.code_label),
                    el("p", { class: "sheet-code" }, p.code),
                    facts),
                 el("img", { class: "qr", src: svg, alt: fmt(_("QR code of the reset code for $0"), r.user) })),
              el("p", { class: "sheet-intro" }, p.intro),
              steps,
              el("p", {}, p.once),
              el("p", { class: "sheet-private" }, p.private));
}

function showResults(results) {
    const list = $("result-list");
    clear(list);
    clear($("sheets"));
    for (const r of results)
        list.append(resultLine(r));
    const sheets = results.filter(r => r.ok && r.code && r.paper && r.qr_svg);
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
