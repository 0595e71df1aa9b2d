"""One module per screen (menu view) of the console."""
