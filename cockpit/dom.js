// SPDX-License-Identifier: BSD-3-Clause
// Small DOM helpers: every text reaches the page through textContent, never as markup.

export const $ = id => document.getElementById(id);

/* el("td", {class: "x", "aria-label": "y"}, child, "text", …) */
export function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        if (v === false || v === null || v === undefined)
            continue;
        if (k === "onclick")
            node.addEventListener("click", v);
        else
            node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) {
        if (c !== null && c !== undefined)
            node.append(c instanceof Node ? c : String(c));
    }
    return node;
}

export function clear(node) {
    while (node.firstChild)
        node.firstChild.remove();
}

/* A status text next to what it is about; an error reads as one. */
export function say(node, text, { error = false } = {}) {
    node.textContent = text;
    node.classList.toggle("error", error);
}
