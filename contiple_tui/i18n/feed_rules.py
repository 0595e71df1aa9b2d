"""Messages of the core's refusals (dial permissions, disabled users) and the CTI feed's rules: English and Korean side by side. Merged into the catalogs by en.py and ko.py."""

EN: dict[str, str] = {
}

KO: dict[str, str] = {
}
