"""A captured message's HTML made inert for viewing (defence in depth under the frame's sandbox and CSP).

The viewer shows the HTML part in an iframe with an empty `sandbox` attribute
(no scripts, no same origin, no forms, no top navigation, no popups), served with
a Content-Security-Policy that allows no network access beyond what the user
asks for. What those cannot stop is removed here: `<meta http-equiv>` (a refresh
would navigate the frame to any host), `<base>`, `<link>` (prefetch, dns-prefetch,
stylesheets), frames and plugins, scripts, and `on*` handler attributes; URLs
with `javascript:`, `vbscript:` or `data:text/html` become `#`.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

DROPPED_WITH_CONTENT = {"script", "noscript", "template", "iframe", "frame", "frameset", "object", "embed", "applet"}
DROPPED = {"meta", "base", "link"} | DROPPED_WITH_CONTENT
VOID = {"area", "br", "col", "hr", "img", "input", "source", "track", "wbr", "meta", "base", "link", "param", "embed"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "poster", "xlink:href", "srcset", "ping", "longdesc"}


def _unsafe_url(value: str) -> bool:
    squeezed = "".join(value.split()).lower()
    return squeezed.startswith(("javascript:", "vbscript:", "data:text/html", "data:image/svg"))


class _Inert(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping or tag in DROPPED:
            if tag in DROPPED_WITH_CONTENT and tag not in VOID:
                self.skipping.append(tag)
            return
        kept = []
        for name, value in attrs:
            if name.startswith("on") or name in ("formaction", "ping", "srcdoc"):
                continue
            if value is not None and name in URL_ATTRIBUTES and _unsafe_url(value):
                value = "#"
            kept.append(f" {name}" if value is None else f' {name}="{escape(value, quote=True)}"')
        self.out.append(f"<{tag}{''.join(kept)}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag not in DROPPED:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(escape(data, quote=False))

    def handle_entityref(self, name: str) -> None:
        if not self.skipping:
            self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self.skipping:
            self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        pass  # conditional comments and the like: dropped

    def handle_decl(self, decl: str) -> None:
        pass

    def handle_pi(self, data: str) -> None:
        pass


def inert_html(html: str) -> str:
    parser = _Inert()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)


def download_name(name: str) -> str:
    """The file name's last component, in safe characters: a sender's `../../x` names nothing outside the downloads folder."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in last)[:120].strip(".")
    return safe or "attachment"
