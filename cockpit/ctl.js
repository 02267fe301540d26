// SPDX-License-Identifier: BSD-3-Clause
// Every action of the page is one pwresetctl command (pwresetctl(8)), run as root through
// Cockpit's superuser bridge: the page holds no logic of its own about who may reset what.
/* global cockpit */
import { _, fmt } from "./words.js";

export class CtlError extends Error {
    constructor(message, kind) {
        super(message);
        this.kind = kind; // "denied", "missing", "failed"
    }
}

/* What a failed run means: the answer pwresetctl still printed (exit status 1 of `check`
   with some account not eligible, of `reset` with some account refused), else a CtlError. */
function afterFailure(ex, args, out) {
    if (ex.problem === "access-denied" || ex.problem === "authentication-failed")
        throw new CtlError("", "denied");
    if (ex.problem === "not-found")
        throw new CtlError(_("pwresetctl was not found on this host (is libpam-pwreset installed?)"), "missing");
    if (ex.problem)
        throw new CtlError(ex.message || ex.problem, "failed");
    if (ex.exit_status === 1 && out.trim().startsWith("{")) {
        try {
            return JSON.parse(out);
        } catch (_) { /* the message says why */ }
    }
    const why = (ex.message || "").trim().replace(/^pwresetctl: /, "");
    throw new CtlError(why || fmt(_("pwresetctl $0 failed (exit status $1)"), args[0], ex.exit_status), "failed");
}

function parse(out, args) {
    try {
        return out.trim() ? JSON.parse(out) : {};
    } catch (_) {
        throw new CtlError(fmt(_("pwresetctl $0 answered something that is not JSON"), args[0]), "failed");
    }
}

/* The page is busy (aria-busy) while a command runs. */
let running = 0;
function busy(change) {
    running += change;
    document.body.setAttribute("aria-busy", String(running > 0));
}

/* Run pwresetctl --json ARGS as root: a promise of the parsed answer. */
export function ctl(args) {
    busy(+1);
    return new Promise((resolve, reject) => {
        const settle = answer => {
            try {
                resolve(answer());
            } catch (ex) {
                reject(ex);
            }
        };
        let out = "";
        const proc = cockpit.spawn(["pwresetctl", "--json", ...args], {
            superuser: "require",
            err: "message",
            environ: ["LC_ALL=C.UTF-8"],
        });
        proc.stream(data => { out += data; });
        proc.then(() => {
            performance.mark("pwreset-answer");
            settle(() => parse(out, args));
        }, ex => settle(() => afterFailure(ex, args, out)));
    }).finally(() => busy(-1));
}
