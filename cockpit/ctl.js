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

/* Run pwresetctl --json ARGS as root; resolves to the parsed answer. `check` exits 1 when
   some account is not eligible and still answers: accept that answer (ok1). */
export function ctl(args, { ok1 = false } = {}) {
    let out = "";
    const proc = cockpit.spawn(["pwresetctl", "--json", ...args], {
        superuser: "require",
        err: "message",
        environ: ["LC_ALL=C.UTF-8"],
    });
    proc.stream(data => { out += data; });
    const parse = () => (out.trim() ? JSON.parse(out) : {});
    return proc.then(parse, ex => {
        if (ex.problem === "access-denied" || ex.problem === "authentication-failed")
            throw new CtlError("", "denied");
        if (ex.problem === "not-found")
            throw new CtlError("pwresetctl was not found on this host (is libpam-pwreset installed?)", "missing");
        if (ex.problem)
            throw new CtlError(ex.message || ex.problem, "failed");
        if (ex.exit_status === 1 && (ok1 || out.trim().startsWith("{"))) {
            try {
                return parse();
            } catch (_) { /* fall through to the message */ }
        }
        const why = (ex.message || "").trim().replace(/^pwresetctl: /, "");
        throw new CtlError(why || `pwresetctl ${args[0]} failed (exit status ${ex.exit_status})`, "failed");
    });
}
