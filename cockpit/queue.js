// SPDX-License-Identifier: BSD-3-Clause
// The mail queue (`pwresetctl queue`): each mail's state and the server's last reply, and
// "Retry now" (`queue flush`), after which the page watches the queue until the retried mail
// has left the waiting states, or for 15 s at most.
import { ctl } from "./ctl.js";
import { $, el, clear, say } from "./dom.js";
import { _, ngettext, MAIL_KINDS, MAIL_STATES, when } from "./words.js";

const WAITING = new Set(["queued", "deferred"]);

export function setupQueue() {
    $("retry-all").addEventListener("click", retry);
}

/* The queue as `pwresetctl --json queue` prints it (overview's "queue"). */
export function showQueue(answer) {
    render(answer.mails || []);
    return answer.mails || [];
}

function loadQueue() {
    return ctl(["queue"]).then(showQueue);
}

function render(mails) {
    const body = $("queue-table").tBodies[0];
    clear(body);
    for (const m of mails) {
        body.append(el("tr", { "data-id": m.id, "data-user": m.user, "data-state": m.state },
                       el("th", { scope: "row" }, m.user), el("td", {}, m.to),
                       el("td", {}, MAIL_KINDS[m.kind] || m.kind),
                       el("td", { class: `state ${m.state}` }, MAIL_STATES[m.state] || m.state),
                       el("td", {}, m.attempts),
                       el("td", {}, when(m.state === "sent" ? m.sent : m.next_try)),
                       el("td", { class: "reply" }, m.reply || "—")));
    }
    $("queue-empty").hidden = mails.length > 0;
    $("retry-all").disabled = !mails.some(m => WAITING.has(m.state));
}

function retry() {
    const note = $("queue-result");
    $("retry-all").disabled = true;
    ctl(["queue", "flush"]).then(answer => {
        const n = answer.flushed || 0;
        say(note, ngettext("$0 mail is being retried", "$0 mails are being retried", n));
        watch(Date.now() + 15000);
    }, ex => {
        say(note, ex.message, { error: true });
        $("retry-all").disabled = false;
    });
}

function watch(until) {
    loadQueue().then(mails => {
        if (mails.some(m => WAITING.has(m.state)) && Date.now() < until)
            window.setTimeout(() => watch(until), 1000);
        else
            say($("queue-result"), mails.some(m => m.state === "deferred") ? _("Still deferred: see the server's reply") : "");
    }, ex => say($("queue-result"), ex.message, { error: true }));
}
