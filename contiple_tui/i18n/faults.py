"""Messages of faults (read-only, disk full, damaged, newer database) and the terminal (no tty, signals): English and Korean side by side. Merged into the catalogs by en.py and ko.py."""

EN: dict[str, str] = {
}

KO: dict[str, str] = {
}
