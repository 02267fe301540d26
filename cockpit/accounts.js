// SPDX-License-Identifier: BSD-3-Clause
// Every account of `pwresetctl check`, with its recovery address (`email export`) and pending
// code (`tokens`): eligible, or each reason in words; a summary by reason, a filter, and the
// actions on one account or on the selected ones.
import { ctl } from "./ctl.js";
import { $, el, clear, say } from "./dom.js";
import { askReset } from "./reset.js";
import { reasonKey, reasonLabel, reasonWords, when } from "./words.js";

const state = { users: [], addresses: new Map(), tokens: new Map(), selected: new Set() };
let reload = () => {};
let editing = null; // the account whose address the dialog edits

export function setupAccounts(reloadAll) {
    reload = reloadAll;
    $("filter").addEventListener("input", render);
    $("reason-filter").addEventListener("change", render);
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

/* `check` lists the accounts from min_uid up; an address registered for another account
   (a system account, an excluded one below min_uid, one gone) is checked by name and listed
   too, so that every address on record is seen with what keeps it from use. */
function checkAll(addresses) {
    return ctl(["check"]).then(all => {
        const listed = new Set((all.users || []).map(u => u.user));
        const more = [...addresses.keys()].filter(name => !listed.has(name));
        if (more.length === 0)
            return all.users || [];
        return ctl(["check", "--", ...more]).then(extra => [...(all.users || []), ...(extra.users || [])]);
    });
}

function summarize(users) {
    const reasons = {};
    for (const u of users) {
        for (const key of new Set(u.reasons.map(reasonKey)))
            reasons[key] = (reasons[key] || 0) + 1;
    }
    return { users: users.length, eligible: users.filter(u => u.eligible).length, reasons };
}

export function loadAccounts() {
    return Promise.all([ctl(["email", "export"]), ctl(["tokens"])])
        .then(([exported, tokens]) => {
            const addresses = new Map((exported.addresses || []).map(a => [a.user, a.address]));
            return checkAll(addresses).then(users => [users, addresses, tokens]);
        })
        .then(([users, addresses, tokens]) => {
            state.users = users;
            state.addresses = addresses;
            state.tokens = new Map((tokens.tokens || []).map(t => [t.user, t]));
            const known = new Set(state.users.map(u => u.user));
            for (const u of [...state.selected])
                known.has(u) || state.selected.delete(u);
            renderSummary();
            render();
        });
}

function renderSummary() {
    const box = $("summary");
    const select = $("reason-filter");
    const current = select.value;
    clear(box);
    clear(select);
    const s = summarize(state.users);
    const options = [["all", `All accounts (${s.users})`], ["eligible", `Eligible (${s.eligible})`],
        ["not-eligible", `Not eligible (${s.users - s.eligible})`]];
    for (const [key, n] of Object.entries(s.reasons || {}))
        options.push([key, `${reasonLabel(key)} (${n})`]);
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
    const keys = u.reasons.map(reasonKey);
    if (reason === "eligible" && !u.eligible)
        return false;
    if (reason === "not-eligible" && u.eligible)
        return false;
    if (!["all", "eligible", "not-eligible"].includes(reason) && !keys.includes(reason))
        return false;
    if (!text)
        return true;
    const hay = [u.user, state.addresses.get(u.user) || "", ...u.reasons.map(reasonWords)]
        .join(" ").toLowerCase();
    return hay.includes(text);
}

function shown() {
    const reason = $("reason-filter").value || "all";
    const text = $("filter").value.trim().toLowerCase();
    return state.users.filter(u => matches(u, reason, text));
}

function reasonsCell(u) {
    if (u.eligible)
        return el("td", { class: "eligible" }, "Eligible");
    const td = el("td", { class: "reasons" });
    for (const r of u.reasons)
        td.append(el("span", { class: "reason", "data-reason": r }, reasonWords(r)));
    return td;
}

function tokenCell(t) {
    if (!t)
        return el("td", { "data-label": "Pending code" }, "—");
    const kind = t.kind === "admin" ? "Administrator's" : "Self-service";
    return el("td", { class: "token", "data-label": "Pending code" }, `${kind}, until ${when(t.expires)}, ${t.tries_left} tries left`);
}

function actions(u) {
    const name = u.user;
    const address = state.addresses.get(name);
    const td = el("td", { class: "row-actions" });
    td.append(el("button", { type: "button", "data-action": "address", "aria-label": `Set the address of ${name}`,
                             onclick: () => editAddress(name) }, address ? "Change address" : "Set address"));
    if (address)
        td.append(el("button", { type: "button", "data-action": "unset", "aria-label": `Remove the address of ${name}`,
                                 onclick: () => act(["email", "unset", "--", name]) }, "Remove address"));
    if (u.uid !== null)
        td.append(el("button", { type: "button", "data-action": "reset", "aria-label": `Reset ${name}`,
                                 onclick: () => askReset([name], false) }, "Reset"));
    if (state.tokens.has(name))
        td.append(el("button", { type: "button", "data-action": "revoke", "aria-label": `Revoke the code of ${name}`,
                                 onclick: () => act(["revoke", "--", name]) }, "Revoke code"));
    return td;
}

function row(u) {
    const name = u.user;
    const box = el("input", { type: "checkbox", "aria-label": `Select ${name}`, checked: state.selected.has(name) });
    box.addEventListener("change", () => {
        box.checked ? state.selected.add(name) : state.selected.delete(name);
        renderSelection();
    });
    return el("tr", { "data-user": name, "data-eligible": String(u.eligible), "data-reasons": u.reasons.join(" ") },
              el("td", {}, box), el("th", { scope: "row" }, name), el("td", { "data-label": "UID" }, u.uid ?? "—"),
              reasonsCell(u), el("td", { class: "address", "data-label": "Recovery address" }, state.addresses.get(name) || "—"),
              tokenCell(state.tokens.get(name)), actions(u));
}

function render() {
    const body = $("account-table").tBodies[0];
    clear(body);
    const rows = shown();
    for (const u of rows)
        body.append(row(u));
    $("accounts-empty").hidden = rows.length > 0;
    renderPressed();
    renderSelection();
}

function renderSelection() {
    const n = state.selected.size;
    $("selected-count").textContent = n === 0 ? "No account selected" : n === 1 ? "1 account selected" : `${n} accounts selected`;
    $("reset-mail").disabled = n === 0;
    $("reset-print").disabled = n === 0;
    const visible = shown();
    $("select-all").checked = visible.length > 0 && visible.every(u => state.selected.has(u.user));
}

function act(args) {
    say($("accounts-note"), "");
    return ctl(args).then(reload, ex => say($("accounts-note"), ex.message, { error: true }));
}

function editAddress(name) {
    editing = name;
    $("address-title").textContent = `Recovery address of ${name}`;
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
        say($("accounts-note"), warnings.length ? `${name}: ${warnings.join("; ")}` : `${name}: address saved`);
        reload();
    }, ex => {
        $("address-error").textContent = ex.message;
        $("address-error").hidden = false;
    });
}
