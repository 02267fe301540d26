// SPDX-License-Identifier: BSD-3-Clause
// Cockpit's light or dark style for this page, as Cockpit's own pages follow it: the choice
// of the session's menu ("shell:style" in local storage: light, dark, or auto = the system's
// preference), told again when it changes here (the "cockpit-style" event), in another frame
// (the storage event) or in the system. Dark is the class pf-theme-dark on the page's root,
// Cockpit's own name for it; pwreset.css gives the colours of each. A classic script in the
// head, so that the page is never drawn in the other style first.
(function () {
    const dark = window.matchMedia("(prefers-color-scheme: dark)");

    function apply(style) {
        const wanted = style || window.localStorage.getItem("shell:style") || "auto";
        const on = wanted === "dark" || (wanted === "auto" && dark.matches);
        document.documentElement.classList.toggle("pf-theme-dark", on);
    }

    window.addEventListener("storage", ev => {
        if (ev.key === "shell:style")
            apply();
    });
    window.addEventListener("cockpit-style", ev => apply(ev.detail?.style));
    dark.addEventListener("change", () => apply());
    apply();
})();
