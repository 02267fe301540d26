// SPDX-License-Identifier: BSD-3-Clause
// The reasons of `pwresetctl check` (SPEC §5, §12) in words, and the page's other labels.

const REASONS = {
    "disabled": "Self-service is off",
    "no-account": "No such account",
    "not-local-shadow": "Password not kept in /etc/shadow",
    "system-account": "System account",
    "excluded": "Excluded",
    "expired": "Expired",
    "no-address": "No recovery address",
    "shared-address": "Address shared with another account",
    "local-only-address": "Address only this host receives",
    "not-in-directory": "Not in the directory",
    "directory-unreachable": "Directory not reachable",
    "protected": "Protected: only root may act on it",
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
        return "Address shared with " + reason.slice(key.length + 1).split(",").join(", ");
    return REASONS[key] || reason;
}

/* The summary's label for a reason key. */
export function reasonLabel(key) {
    return REASONS[key] || key;
}

export const MAIL_KINDS = {
    "code": "Reset code (self-service)",
    "admin-reset": "Reset code (administrator)",
    "changed": "Password changed",
    "address-confirm": "Address confirmation",
    "address-replaced": "Address replaced",
    "address-removed": "Address removed",
};

export const MAIL_STATES = {
    "queued": "Queued",
    "sent": "Sent",
    "deferred": "Deferred",
    "failed": "Failed",
};

/* An RFC 3339 time from pwresetctl as this browser's local time. */
export function when(rfc3339) {
    if (!rfc3339)
        return "—";
    const d = new Date(rfc3339);
    return isNaN(d) ? rfc3339 : d.toLocaleString();
}
