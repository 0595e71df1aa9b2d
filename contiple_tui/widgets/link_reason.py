"""Why the CTI link is down, in the user's language: said by the header and the Disconnected banner."""

from __future__ import annotations

from contiple_tui.cti.client import CtiClient, LinkState
from contiple_tui.i18n import t


def link_reason(client: CtiClient | None) -> str | None:
    """ "connection refused", "wrong token", "no heartbeat for 8 s"... while the link is not up; None
    when it is, or when nothing was tried yet."""
    if client is None or client.state is LinkState.CONNECTED or client.down_reason is None:
        return None
    key, values = client.down_reason
    return t(f"cti.why.{key}", **values)
