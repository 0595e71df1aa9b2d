"""Messages of SMS sends whose outcome is unknown, and the core's own re-checks of a send: English and Korean side by side. Merged into the catalogs by en.py and ko.py."""

EN: dict[str, str] = {
}

KO: dict[str, str] = {
}
