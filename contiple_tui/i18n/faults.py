"""Messages of faults (read-only, disk full, damaged, newer database) and the terminal (no tty, signals): English and Korean side by side. Merged into the catalogs by en.py and ko.py."""

EN: dict[str, str] = {
    # -- the terminal (no tty) ------------------------------------------------------------------
    "err.no_tty": "no terminal: this full-screen command needs one (connect with ssh -t, or allow a pty "
                  "for the key); commands such as users, services, export and sms work without one.",
}

KO: dict[str, str] = {
    # -- the terminal (no tty) ------------------------------------------------------------------
    "err.no_tty": "터미널이 없습니다: 이 전체 화면 명령에는 터미널이 필요합니다(ssh -t로 접속하거나 키에 pty를 "
                  "허용하세요). users, services, export, sms 같은 명령은 터미널 없이도 실행됩니다.",
}
