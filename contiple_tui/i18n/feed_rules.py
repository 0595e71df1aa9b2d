"""Messages of the core's refusals (dial permissions, disabled users) and the CTI feed's rules: English and Korean side by side. Merged into the catalogs by en.py and ko.py."""

EN: dict[str, str] = {
    "feed.intake_failed": "A callback request from the phone system could not be saved ({request}: {error}). "
                          "It stays in the feed and is taken in again when a console restarts.",
}

KO: dict[str, str] = {
    "feed.intake_failed": "전화 시스템에서 받은 콜백 요청을 저장하지 못했습니다 ({request}: {error}). "
                          "요청은 피드에 남아 있으며 콘솔을 다시 시작하면 다시 접수됩니다.",
}
