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
import { _, fmt, ngettext } from "./words.js";

const DENIED = _("You need administrative access to manage password reset on this host.");
const OTHER_KEYS = [["admin_group", _("Administrators' group")], ["exclude_users", _("Excluded users")],
    ["exclude_groups", _("Excluded groups")], ["min_uid", _("Lowest UID")], ["file", _("File")]];
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
    const parts = [
        fmt(s.mode === "daemon" ? _("Helper $0 (service)") : _("Helper $0 (one-shot)"), s.version),
        ngettext("$0 recovery address", "$0 recovery addresses", s.addresses || 0),
        ngettext("$0 pending code", "$0 pending codes", codes),
        fmt(_("mail: $0 queued, $1 deferred, $2 failed"), mail.queued || 0, mail.deferred || 0, mail.failed || 0),
    ];
    if (s.directory) {
        parts.push(s.directory.answers
            ? fmt(_("directory $0 ($1) answers (bound as $2)"), s.directory.url,
                  s.directory.type === "ad" ? "Active Directory" : "OpenLDAP", s.directory.bound_as)
            : fmt(_("directory $0 not answering: $1"), s.directory.url, s.directory.error));
    }
    $("status-line").textContent = parts.join("; ");
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
    $("policy-problem").textContent = p.problem ? fmt(_("$0 is not in use: $1"), p.file, p.problem) : "";
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
    say($("policy-result"), _("Saving…"));
    changes.reduce((chain, [key, value]) => chain.then(() => ctl(["policy", "set", "--", key, value])),
                   Promise.resolve())
        .then(() => say($("policy-result"), changes.length ? _("Saved") : _("Nothing changed")),
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
    document.documentElement.lang = (cockpit.language || "en").replace("_", "-");
    cockpit.translate();
    loadAll();
});
