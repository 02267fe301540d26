// SPDX-License-Identifier: BSD-3-Clause
// The Password reset page of Cockpit: the policy (`pwresetctl policy`, `policy set`), the
// accounts (accounts.js), forced resets and their sheets (reset.js), the mail queue
// (queue.js). Each refresh is one `pwresetctl overview`, whatever the number of accounts. A Cockpit user without administrative access gets one sentence and nothing
// else: every command runs with superuser "require", which such a session cannot have.
/* global cockpit */
import { ctl } from "./ctl.js";
import { $, el, clear, say } from "./dom.js";
import { showAccounts, setupAccounts } from "./accounts.js";
import { setupReset } from "./reset.js";
import { showQueue, setupQueue } from "./queue.js";

const DENIED = "You need administrative access to manage password reset on this host.";
const OTHER_KEYS = [["admin_group", "Administrators' group"], ["exclude_users", "Excluded users"],
    ["exclude_groups", "Excluded groups"], ["min_uid", "Lowest UID"], ["file", "File"]];
let policy = null;

function fail(ex) {
    $("loading").hidden = true;
    if (ex.kind === "denied") {
        // nothing of the host's accounts stays on the page
        $("page").remove();
        $("failure").hidden = true;
        $("denied").textContent = DENIED;
        $("denied").hidden = false;
        return;
    }
    $("failure").textContent = ex.message;
    $("failure").hidden = false;
}

function showStatus(s) {
    const codes = (s.codes?.self || 0) + (s.codes?.admin || 0);
    const mail = s.mail || {};
    $("status-line").textContent =
        `Helper ${s.version} (${s.mode === "daemon" ? "service" : "one-shot"}): ` +
        `${s.addresses} recovery addresses, ${codes} pending codes; mail: ${mail.queued} queued, ` +
        `${mail.deferred} deferred, ${mail.failed} failed` +
        (s.directory ? `; directory ${s.directory.url} ` +
            (s.directory.answers ? `answers (bound as ${s.directory.bound_as})` : `not answering: ${s.directory.error}`) : "");
    const list = $("problems");
    clear(list);
    for (const p of s.problems || [])
        list.append(el("li", { class: "alert" }, p));
}

function showPolicy(p) {
    policy = p;
    $("self-reset").checked = p.self_reset;
    $("help-message").value = p.help_message || "";
    $("user-addresses").checked = p.user_addresses;
    const dl = $("policy-other");
    clear(dl);
    for (const [key, label] of OTHER_KEYS) {
        const v = Array.isArray(p[key]) ? p[key].join(", ") : p[key];
        dl.append(el("dt", {}, label), el("dd", { "data-key": key }, v === "" || v === null ? "—" : v));
    }
    $("policy-problem").textContent = p.problem ? `${p.file} is not in use: ${p.problem}` : "";
    $("policy-problem").hidden = !p.problem;
}

/* Each changed key through `policy set`, one after the other; the first refusal stops. */
function savePolicy(ev) {
    ev.preventDefault();
    const wanted = [["self_reset", $("self-reset").checked ? "yes" : "no", policy.self_reset ? "yes" : "no"],
        ["help_message", $("help-message").value.trim(), policy.help_message || ""],
        ["user_addresses", $("user-addresses").checked ? "yes" : "no", policy.user_addresses ? "yes" : "no"]];
    const changes = wanted.filter(([, now, was]) => now !== was);
    const button = $("policy-save");
    button.disabled = true;
    say($("policy-result"), "Saving…");
    changes.reduce((chain, [key, value]) => chain.then(() => ctl(["policy", "set", "--", key, value])),
                   Promise.resolve())
        .then(() => say($("policy-result"), changes.length ? "Saved" : "Nothing changed"),
              ex => say($("policy-result"), ex.message, { error: true }))
        .finally(() => {
            button.disabled = false;
            loadAll();
        });
}

function loadAll() {
    return ctl(["overview"]).then(all => {
        showStatus(all.status);
        showPolicy(all.policy);
        showAccounts(all.check, all.addresses, all.tokens);
        showQueue(all.queue);
        $("loading").hidden = true;
        $("failure").hidden = true;
        $("page").hidden = false;
        // from the answer to the page drawn (tests/integration/test_cockpit.py reads it)
        requestAnimationFrame(() => setTimeout(() => performance.measure("pwreset-draw", "pwreset-answer")));
    }, fail);
}

document.addEventListener("DOMContentLoaded", () => {
    setupAccounts(loadAll);
    setupReset(loadAll);
    setupQueue();
    $("policy-form").addEventListener("submit", savePolicy);
    cockpit.translate?.();
    loadAll();
});
