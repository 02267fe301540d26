// SPDX-License-Identifier: BSD-3-Clause
// Every account of `pwresetctl check`, with its recovery address (`email export`) and pending
// code (`tokens`), all from one `pwresetctl overview`: eligible, or each reason in words; a
// summary by reason, a filter, and the actions on one account or on the selected ones. The
// counts and the filter cover every account; the table draws one page of them (PAGE rows), so
// that a site of tens of thousands of accounts draws as fast as one of ten.
import { ctl } from "./ctl.js";
import { $, el, clear, say } from "./dom.js";
import { askReset } from "./reset.js";
import { _, fmt, ngettext, number, reasonKey, reasonLabel, reasonWords, when } from "./words.js";

const PAGE = 50;
const state = { users: [], addresses: new Map(), tokens: new Map(), selected: new Set(), page: 0 };
let reload = () => {};
let editing = null; // the account whose address the dialog edits

export function setupAccounts(reloadAll) {
    reload = reloadAll;
    $("filter").addEventListener("input", () => {
        // how long a keystroke takes to show (tests/integration/test_cockpit.py reads it)
        const start = performance.now();
        state.page = 0;
        render();
        requestAnimationFrame(() => setTimeout(() => performance.measure("pwreset-filter", { start })));
    });
    $("reason-filter").addEventListener("change", () => {
        state.page = 0;
        render();
    });
    $("page-prev").addEventListener("click", () => turn(-1));
    $("page-next").addEventListener("click", () => turn(+1));
    $("select-all").addEventListener("change", ev => {
        for (const u of shown())
            ev.target.checked ? state.selected.add(u.user) : state.selected.delete(u.user);
        render();
    });
    $("reset-mail").addEventListener("click", () => askReset([...state.selected], false));
    $("reset-print").addEventListener("click", () => askReset([...state.selected], true));
    $("address-form").addEventListener("submit", ev => {
        ev.preventDefault();
        saveAddress();
    });
    $("address-cancel").addEventListener("click", () => $("address-dialog").close());
}

/* Each account as `check` gives it, with what the filter looks through made once. */
function prepare(u) {
    u.keys = u.reasons.map(reasonKey);
    u.hay = [u.user, state.addresses.get(u.user) || "", ...u.reasons.map(reasonWords)].join(" ").toLowerCase();
    return u;
}

function summarize(users) {
    const reasons = {};
    for (const u of users) {
        for (const key of new Set(u.keys))
            reasons[key] = (reasons[key] || 0) + 1;
    }
    return { users: users.length, eligible: users.filter(u => u.eligible).length, reasons };
}

/* overview's check (every account, then those with an address that it did not list),
   addresses (email export) and tokens. */
export function showAccounts(check, exported, tokens) {
    state.addresses = new Map((exported.addresses || []).map(a => [a.user, a.address]));
    state.users = (check.users || []).map(prepare);
    state.tokens = new Map((tokens.tokens || []).map(t => [t.user, t]));
    const known = new Set(state.users.map(u => u.user));
    for (const u of [...state.selected])
        known.has(u) || state.selected.delete(u);
    renderSummary();
    render();
}

function renderSummary() {
    const box = $("summary");
    const select = $("reason-filter");
    const current = select.value;
    clear(box);
    clear(select);
    const s = summarize(state.users);
    const options = [["all", fmt(_("All accounts ($0)"), number(s.users))],
        ["eligible", fmt(_("Eligible ($0)"), number(s.eligible))],
        ["not-eligible", fmt(_("Not eligible ($0)"), number(s.users - s.eligible))]];
    for (const [key, n] of Object.entries(s.reasons || {}))
        options.push([key, fmt(_("$0 ($1)"), reasonLabel(key), number(n))]);
    for (const [value, label] of options) {
        select.append(el("option", { value }, label));
        box.append(el("button", { type: "button", class: "chip", "data-reason": value,
                                  "aria-pressed": String(value === (current || "all")),
                                  onclick: () => { select.value = value; render(); renderPressed() } },
                      label));
    }
    select.value = options.some(o => o[0] === current) ? current : "all";
}

function renderPressed() {
    for (const chip of $("summary").querySelectorAll(".chip"))
        chip.setAttribute("aria-pressed", String(chip.dataset.reason === $("reason-filter").value));
}

function matches(u, reason, text) {
    if (reason === "eligible" && !u.eligible)
        return false;
    if (reason === "not-eligible" && u.eligible)
        return false;
    if (!["all", "eligible", "not-eligible"].includes(reason) && !u.keys.includes(reason))
        return false;
    return !text || u.hay.includes(text);
}

function shown() {
    const reason = $("reason-filter").value || "all";
    const text = $("filter").value.trim().toLowerCase();
    return state.users.filter(u => matches(u, reason, text));
}

function reasonsCell(u) {
    if (u.eligible)
        return el("td", { class: "eligible" }, _("Eligible"));
    const td = el("td", { class: "reasons" });
    for (const r of u.reasons)
        td.append(el("span", { class: "reason", "data-reason": r }, reasonWords(r)));
    return td;
}

function tokenCell(t) {
    if (!t)
        return el("td", { "data-label": _("Pending code") }, "—");
    const words = t.kind === "admin" ? _("Administrator's, until $0, $1") : _("Self-service, until $0, $1");
    return el("td", { class: "token", "data-label": _("Pending code") },
              fmt(words, when(t.expires), ngettext("$0 try left", "$0 tries left", t.tries_left)));
}

function actions(u) {
    const name = u.user;
    const address = state.addresses.get(name);
    const box = el("div"); // the buttons flow in a box inside the cell
    box.append(el("button", { type: "button", "data-action": "address", "aria-label": fmt(_("Set the address of $0"), name),
                             onclick: () => editAddress(name) }, address ? _("Change address") : _("Set address")));
    if (address)
        box.append(el("button", { type: "button", "data-action": "unset", "aria-label": fmt(_("Remove the address of $0"), name),
                                 onclick: () => act(["email", "unset", "--", name]) }, _("Remove address")));
    if (u.uid !== null)
        box.append(el("button", { type: "button", "data-action": "reset", "aria-label": fmt(_("Reset $0"), name),
                                 onclick: () => askReset([name], false) }, _("Reset")));
    if (state.tokens.has(name))
        box.append(el("button", { type: "button", "data-action": "revoke", "aria-label": fmt(_("Revoke the code of $0"), name),
                                 onclick: () => act(["revoke", "--", name]) }, _("Revoke code")));
    return el("td", { class: "row-actions" }, box);
}

function row(u) {
    const name = u.user;
    const box = el("input", { type: "checkbox", "aria-label": fmt(_("Select $0"), name), checked: state.selected.has(name) });
    box.addEventListener("change", () => {
        box.checked ? state.selected.add(name) : state.selected.delete(name);
        renderSelection();
    });
    return el("tr", { "data-user": name, "data-eligible": String(u.eligible), "data-reasons": u.reasons.join(" ") },
              el("td", {}, box), el("th", { scope: "row" }, name), el("td", { "data-label": _("UID") }, u.uid ?? "—"),
              reasonsCell(u), el("td", { class: "address", "data-label": _("Recovery address") }, state.addresses.get(name) || "—"),
              tokenCell(state.tokens.get(name)), actions(u));
}

function turn(by) {
    state.page += by;
    render();
    $("accounts-title").focus();
}

/* The page of the accounts shown, its rows drawn in one go. */
function render() {
    const body = $("account-table").tBodies[0];
    const rows = shown();
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(Math.max(state.page, 0), pages - 1);
    const first = state.page * PAGE;
    const part = rows.slice(first, first + PAGE);
    const fragment = document.createDocumentFragment();
    for (const u of part)
        fragment.append(row(u));
    clear(body);
    body.append(fragment);
    $("accounts-empty").hidden = rows.length > 0;
    $("pager").hidden = rows.length <= PAGE;
    $("page-info").textContent = rows.length === 0 ? ""
        : fmt(_("Accounts $0–$1 of $2"), number(first + 1), number(first + part.length), number(rows.length));
    $("page-prev").disabled = state.page === 0;
    $("page-next").disabled = state.page >= pages - 1;
    renderPressed();
    renderSelection(rows);
}

function renderSelection(visible = shown()) {
    const n = state.selected.size;
    $("selected-count").textContent = n === 0 ? _("No account selected")
        : ngettext("$0 account selected", "$0 accounts selected", n);
    $("reset-mail").disabled = n === 0;
    $("reset-print").disabled = n === 0;
    $("select-all").checked = visible.length > 0 && visible.every(u => state.selected.has(u.user));
}

function act(args) {
    say($("accounts-note"), "");
    return ctl(args).then(reload, ex => say($("accounts-note"), ex.message, { error: true }));
}

function editAddress(name) {
    editing = name;
    $("address-title").textContent = fmt(_("Recovery address of $0"), name);
    $("address-input").value = state.addresses.get(name) || "";
    $("address-error").hidden = true;
    $("address-dialog").showModal();
}

function saveAddress() {
    const name = editing;
    const address = $("address-input").value.trim();
    ctl(["email", "set", "--", name, address]).then(answer => {
        $("address-dialog").close();
        const warnings = answer.warnings || [];
        say($("accounts-note"), warnings.length ? `${name}: ${warnings.join("; ")}` : fmt(_("$0: address saved"), name));
        reload();
    }, ex => {
        $("address-error").textContent = ex.message;
        $("address-error").hidden = false;
    });
}
