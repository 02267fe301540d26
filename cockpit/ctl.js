// SPDX-License-Identifier: BSD-3-Clause
// Every action of the page is one pwresetctl command (pwresetctl(8)), run as root through
// Cockpit's superuser bridge: the page holds no logic of its own about who may reset what.
/* global cockpit */

export class CtlError extends Error {
    constructor(message, kind) {
        super(message);
        this.kind = kind; // "denied", "missing", "failed"
    }
}

/* What a failed spawn means, as a CtlError; or the answer, for an exit status 1 that still
   answered (`check` with some account not eligible, `reset` with some account refused). */
function failure(ex, args, out, ok1) {
    if (ex.problem === "access-denied" || ex.problem === "authentication-failed")
        return new CtlError("", "denied");
    if (ex.problem === "not-found")
        return new CtlError("pwresetctl was not found on this host (is libpam-pwreset installed?)", "missing");
    if (ex.problem)
        return new CtlError(ex.message || ex.problem, "failed");
    if (ex.exit_status === 1 && (ok1 || out.trim().startsWith("{"))) {
        try {
            return { answer: JSON.parse(out) };
        } catch (_) { /* the message says why */ }
    }
    const why = (ex.message || "").trim().replace(/^pwresetctl: /, "");
    return new CtlError(why || `pwresetctl ${args[0]} failed (exit status ${ex.exit_status})`, "failed");
}

/* The page is busy (aria-busy) while a command runs. */
let running = 0;
function busy(change) {
    running += change;
    document.body.setAttribute("aria-busy", String(running > 0));
}

/* Run pwresetctl --json ARGS as root: a promise of the parsed answer. */
export function ctl(args, { ok1 = false } = {}) {
    busy(+1);
    return new Promise((resolve, reject) => {
        let out = "";
        const proc = cockpit.spawn(["pwresetctl", "--json", ...args], {
            superuser: "require",
            err: "message",
            environ: ["LC_ALL=C.UTF-8"],
        });
        proc.stream(data => { out += data; });
        proc.then(() => {
            try {
                resolve(out.trim() ? JSON.parse(out) : {});
            } catch (_) {
                reject(new CtlError(`pwresetctl ${args[0]} answered something that is not JSON`, "failed"));
            }
        }, ex => {
            const f = failure(ex, args, out, ok1);
            f instanceof CtlError ? reject(f) : resolve(f.answer);
        });
    }).finally(() => busy(-1));
}
