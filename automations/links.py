"""Where an in-app notification may point: a path on this site (`/deals/rec_...`) or an
absolute http(s) URL. Nothing else: not `javascript:` or `data:`, and not the spellings that
look like a path but that browsers read as another site (`//evil.example`, `/\\evil.example`,
`/<tab>/evil.example`: the URL standard turns a backslash into a slash and drops tabs and line
breaks).

One rule for every place a link is written or shown: the send_notification validator (a
literal link, and a template's literal start), the action after rendering, the admin's form,
the API's notification list and the web UI's notifications page (which also never shows rows
stored before the rule existed as a link).
"""

from __future__ import annotations

import re

from automations.validation import url_problems

MAX_LENGTH = 500
# C0 controls and DEL (browsers drop tab and line breaks inside a URL) and the backslash
# (browsers read it as a slash): none belongs in a link, and each can hide a second slash.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")
EXPECTED = "a path on this site such as /deals/{{record.id}}, or an http(s) URL"


def link_problem(link: str) -> str | None:
    """Why `link` (already stripped) cannot be a notification's link, or None if it can: a
    phrase that follows "the link" ("must be ...", "is not a valid URL")."""
    if len(link) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if _UNSAFE.search(link):
        return "must not contain backslashes, tabs, line breaks or other control characters"
    if link.startswith("/"):
        if link.startswith("//"):
            return f"starts with '//', which browsers read as another site; it must be {EXPECTED}"
        return None
    if link.lower().startswith(("http://", "https://")):
        # The one definition of an http(s) URL, the webhook URL's.
        return "is not a valid URL" if url_problems(link, "link") else None
    return f"must be {EXPECTED}"


def template_start_problem(template: str) -> str | None:
    """For a templated link, what its literal start already rules out (the rendered link is
    checked again when the action runs)."""
    literal = template.strip().split("{{")[0].split("{%")[0]
    if not literal:
        return None  # the whole link comes from data
    if literal.startswith("//") or _UNSAFE.search(literal):
        return link_problem(literal)
    if literal.startswith("/") or literal.lower().startswith(("http://", "https://")):
        return None
    return f"must be {EXPECTED}"


def safe_link(link: str | None) -> str | None:
    """A stored link as it may be served (the API), None when empty or when it breaks the
    rule (rows written before the rule, or by hand in the database)."""
    text = (link or "").strip()
    return text if text and link_problem(text) is None else None


def site_path(link: str | None) -> str | None:
    """The link if it is a safe path on this site (the web UI opens it through the site)."""
    safe = safe_link(link)
    return safe if safe is not None and safe.startswith("/") else None


def external_url(link: str | None) -> str | None:
    """The link if it is a safe absolute http(s) URL (the web UI opens it as it is)."""
    safe = safe_link(link)
    return safe if safe is not None and not safe.startswith("/") else None
