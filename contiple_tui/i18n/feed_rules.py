"""Messages of the core's refusals (dial permissions, disabled users) and the CTI feed's rules: English and Korean side by side. Merged into the catalogs by __init__.py."""

EN: dict[str, str] = {
    "feed.intake_failed": "A callback request from the phone system could not be saved ({request}: {error}). "
    "It is kept and tried again every 2 seconds until the store takes it."
}

KO: dict[str, str] = {
    "feed.intake_failed": "전화 시스템에서 받은 콜백 요청을 저장하지 못했습니다 ({request}: {error}). "
    "요청은 보관되며 저장될 때까지 2초마다 다시 시도합니다."
}
