"""Messages of text safety (data shown as text; input refused at the door): English and Korean side by side. Merged into the catalogs by en.py and ko.py."""

EN: dict[str, str] = {
}

KO: dict[str, str] = {
}
