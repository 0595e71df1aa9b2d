"""Messages of faults (read-only, disk full, damaged, newer database) and the terminal (no tty, signals): English and Korean side by side. Merged into the catalogs by __init__.py."""

EN: dict[str, str] = {
    "err.disk_full": "The disk holding {path} is full; nothing was saved. Free some space and try again.",
    "err.db_owner": "The database {path} belongs to another account (uid {uid}); it was not opened. Run the console as that account, or: chown $(id -u) {path}",
    "err.db_shared": "The database {path} can be changed by other users (mode {mode}); it was not opened. Run: chmod 600 {path}",
    "err.db_read_only": "The database {path} is read-only for you; nothing was changed. Ask an administrator for write access.",
    "err.db_io": "The database {path} cannot be read or written ({reason}); nothing was changed.",
    "err.pg_unreachable": "The database server {url} cannot be reached ({reason}); nothing was changed. Check that it is running and that this host may connect to it.",
    "err.pg_driver_missing": "A postgresql:// database needs the PostgreSQL driver: pip install 'contiple-tui[postgres]'",
    "err.db_url_invalid": "'{url}' is not a PostgreSQL address (postgresql://user@host:port/database).",
    "err.demo_reset_pg": "demo --reset removes the demo's SQLite file; with --db, drop and create the PostgreSQL database instead (dropdb, createdb), then run demo again.",
    "err.copy_direction": "store copy copies a SQLite store into PostgreSQL: run it with the data directory of the SQLite store, without --db.",
    "err.copy_target_not_empty": "The PostgreSQL database is not empty (table {table} has rows); nothing was copied. Give store copy a new, empty database.",
    "err.copy_mismatch": "The copy of {table} differs from the original ({rows} rows there, {copied} copied); the copy was undone and the database is empty again.",
    "err.unexpected": "An unexpected error stopped the program ({kind}: {reason}). Run it again with CONTIPLE_TUI_DEBUG=1 to see the details.",
    # -- the terminal (no tty) ------------------------------------------------------------------
    "err.no_tty": "no terminal: this full-screen command needs one (connect with ssh -t, or allow a pty "
    "for the key); commands such as users, services, export and sms work without one.",
}

KO: dict[str, str] = {
    "err.disk_full": "{path:이} 있는 디스크가 가득 찼습니다. 아무것도 저장하지 않았습니다. 공간을 확보한 뒤 다시 시도하세요.",
    "err.db_owner": "데이터베이스 {path:은} 다른 계정(uid {uid})의 것이라 열지 않았습니다. 그 계정으로 콘솔을 실행하거나 실행하세요: chown $(id -u) {path}",
    "err.db_shared": "데이터베이스 {path:은} 다른 사용자도 바꿀 수 있어 열지 않았습니다 (권한 {mode}). 실행하세요: chmod 600 {path}",
    "err.db_read_only": "데이터베이스 {path:은} 읽기 전용이라 쓸 수 없습니다. 아무것도 변경하지 않았습니다. 관리자에게 쓰기 권한을 요청하세요.",
    "err.db_io": "데이터베이스 {path:을} 읽거나 쓸 수 없습니다({reason}). 아무것도 변경하지 않았습니다.",
    "err.pg_unreachable": "데이터베이스 서버 {url}에 연결할 수 없습니다({reason}). 아무것도 변경하지 않았습니다. 서버가 실행 중인지, 이 호스트에서 접속할 수 있는지 확인하세요.",
    "err.pg_driver_missing": "postgresql:// 데이터베이스에는 PostgreSQL 드라이버가 필요합니다: pip install 'contiple-tui[postgres]'",
    "err.db_url_invalid": "{url:'은} PostgreSQL 주소가 아닙니다 (postgresql://사용자@호스트:포트/데이터베이스).",
    "err.demo_reset_pg": "demo --reset은 데모의 SQLite 파일을 지웁니다. --db를 쓸 때는 PostgreSQL 데이터베이스를 지우고 다시 만든 뒤(dropdb, createdb) demo를 다시 실행하세요.",
    "err.copy_direction": "store copy는 SQLite 저장소를 PostgreSQL로 복사합니다: --db 없이 SQLite 저장소의 데이터 디렉터리로 실행하세요.",
    "err.copy_target_not_empty": "PostgreSQL 데이터베이스가 비어 있지 않습니다({table} 테이블에 행이 있음). 아무것도 복사하지 않았습니다. 새로 만든 빈 데이터베이스를 지정하세요.",
    "err.copy_mismatch": "{table}의 복사본이 원본과 다릅니다(원본 {rows}행, 복사 {copied}행). 복사를 되돌려 데이터베이스는 다시 비어 있습니다.",
    "err.unexpected": "예기치 않은 오류로 프로그램이 멈췄습니다({kind}: {reason}). 자세한 내용은 CONTIPLE_TUI_DEBUG=1로 다시 실행해 보세요.",
    # -- the terminal (no tty) ------------------------------------------------------------------
    "err.no_tty": "터미널이 없습니다: 이 전체 화면 명령에는 터미널이 필요합니다(ssh -t로 접속하거나 키에 pty를 "
    "허용하세요). users, services, export, sms 같은 명령은 터미널 없이도 실행됩니다.",
}
