"""Hiding secrets in text that is printed or logged: the password of a database URL.

Used on every message the command line prints, so a password never reaches a terminal or a log, whether
the URL around it is well formed or not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa

MASK = "***"

# ``user:password@`` after a scheme's slashes, a quote, a space or the start: the password is everything
# up to the last ``@`` of the word (a password may hold ``:`` or ``@``; a host may not hold ``@``).
_USERINFO = re.compile(r"""(?:(?<=[/\s'"=(])|^)([^\s/:@'"]+):((?!/)[^\s'"]*)@(?=[^\s@'"]*(?:[\s'"),]|$))""")


def redact(text: str) -> str:
    """``text`` with the password of every ``user:password@host`` in it replaced by ``***``.

    Example:
        >>> redact("bad URL 'postgresql+psycopg//me:s3cret@db/x'")
        "bad URL 'postgresql+psycopg//me:***@db/x'"
    """
    return _USERINFO.sub(lambda m: f"{m.group(1)}:{MASK}@", text)


def mask_url(url: str | sa.URL) -> str:
    """``url`` with its password hidden, safe to print."""
    import sqlalchemy as sa  # here: the command line imports this module before it needs a database

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:  # not a URL, but it may still hold a password: hide it all the same
        return repr(redact(str(url)))
