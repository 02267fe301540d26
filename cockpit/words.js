// SPDX-License-Identifier: BSD-3-Clause
// The reasons of `pwresetctl check` (SPEC §5, §12) in words, and the page's other labels, in
// the language of Cockpit's session (cockpit.gettext, from po.LANG.js, made from po/).
/* global cockpit */

export const _ = cockpit.gettext;

/* cockpit.format of a translated text: "$0" … in it are the values. */
export const fmt = (text, ...values) => cockpit.format(text, values);

/* The text for a number n: cockpit.ngettext's form for n, with "$0" n as this language writes
   it (named so that xgettext sees the two texts, as it sees cockpit.ngettext's). */
export const ngettext = (one, many, n) => cockpit.format(cockpit.ngettext(one, many, n), [number(n)]);

/* the page's language as a BCP 47 tag, for numbers and times ("pt_BR" → "pt-BR") */
const LOCALE = (cockpit.language || "en").replace("_", "-");

export const number = n => Number(n).toLocaleString(LOCALE);

const REASONS = {
    "disabled": _("Self-service is off"),
    "no-account": _("No such account"),
    "not-local-shadow": _("Password not kept in /etc/shadow"),
    "system-account": _("System account"),
    "excluded": _("Excluded"),
    "expired": _("Expired"),
    "no-address": _("No recovery address"),
    "shared-address": _("Address shared with another account"),
    "local-only-address": _("Address only this host receives"),
    "not-in-directory": _("Not in the directory"),
    "directory-unreachable": _("Directory not reachable"),
    "protected": _("Protected: only root may act on it"),
};

/* "shared-address:bob,carol" → "shared-address" */
export function reasonKey(reason) {
    const colon = reason.indexOf(":");
    return colon < 0 ? reason : reason.slice(0, colon);
}

/* One reason in words: "Address shared with bob, carol". */
export function reasonWords(reason) {
    const key = reasonKey(reason);
    if (key === "shared-address" && key !== reason)
        return fmt(_("Address shared with $0"), reason.slice(key.length + 1).split(",").join(", "));
    return REASONS[key] || reason;
}

/* The summary's label for a reason key. */
export function reasonLabel(key) {
    return REASONS[key] || key;
}

export const MAIL_KINDS = {
    "code": _("Reset code (self-service)"),
    "admin-reset": _("Reset code (administrator)"),
    "changed": _("Password changed"),
    "address-confirm": _("Address confirmation"),
    "address-replaced": _("Address replaced"),
    "address-removed": _("Address removed"),
};

export const MAIL_STATES = {
    "queued": _("Queued"),
    "sent": _("Sent"),
    "deferred": _("Deferred"),
    "failed": _("Failed"),
};

/* An RFC 3339 time from pwresetctl as this browser's local time, in the page's language. */
export function when(rfc3339) {
    if (!rfc3339)
        return "—";
    const d = new Date(rfc3339);
    return isNaN(d) ? rfc3339 : d.toLocaleString(LOCALE);
}
