"""Messages of SMS sends whose outcome is unknown, and the core's own re-checks of a send: English and Korean side by side. Merged into the catalogs by __init__.py."""

EN: dict[str, str] = {
    # `sms send` exit code 3, the composer, the history: the request went out, the answer did not come back
    "sms.outcome.unknown": (
        "Sent? Unknown — being checked (send #{id}). The gateway's answer was lost ({reason}) and the send "
        "is not visible at the gateway yet. It will NOT be sent again automatically: every open console (each "
        "30 seconds) and 'sms history' look it up, and the history shows what happened. Do not send it again "
        "unless the history says it failed."
    ),
    "sms.outcome.not_recorded": (
        "Sent? Unknown — being checked (send #{id}). The gateway took the request ({request_id}) but its "
        "answer could not be saved here ({reason}). It will NOT be sent again: the next status check or "
        "'sms history' finds it at the gateway. Do not send it again."
    ),
    "sms.outcome.toast": "Sent? Unknown — being checked (send #{id}). Not sent again automatically: see the history.",
    "sms.outcome.not_found_yet": "answer lost; not visible at the gateway yet — being checked",
    "sms.outcome.never_arrived": (
        "not found at NHN in {lookups} look-ups over {minutes} minutes: not sent. Retry only by hand "
        "(send it again from the composer)"
    ),
    "sms.outcome.detail_unknown": (
        "Sent? Unknown — being checked: the gateway's answer was lost. Looked up at the gateway by every "
        "open console (each 30 seconds); never sent again automatically. Last look-up: {at}."
    ),
    "sms.outcome.never_looked_up": "not yet",
    "smsh.state.unknown": "Unknown",  # the recipients table gives a state 9 cells
    "sms.outcome.recipients_unknown": "#{id} {type} · recipients: {count} · sent? unknown — being checked",
    "sms.outcome.cancel_not_found": "Send #{id}: not found or not yours.",
}

KO: dict[str, str] = {
    "sms.outcome.unknown": (
        "발송 여부 미확인 — 확인 중입니다 (발송 #{id}). 게이트웨이의 응답을 받지 못했고({reason}) 아직 "
        "게이트웨이에서 이 발송 건이 보이지 않습니다. 자동으로 다시 보내지 않습니다. 열려 있는 콘솔(30초마다)과 "
        "'sms history'가 조회하며 결과는 발송 내역에 표시됩니다. 발송 내역에 실패로 나오기 전에는 다시 보내지 마세요."
    ),
    "sms.outcome.not_recorded": (
        "발송 여부 미확인 — 확인 중입니다 (발송 #{id}). 게이트웨이는 요청을 받았지만({request_id}) 그 응답을 "
        "여기에 저장하지 못했습니다({reason}). 다시 보내지 않습니다. 다음 상태 확인이나 'sms history'가 "
        "게이트웨이에서 찾아 기록합니다. 다시 보내지 마세요."
    ),
    "sms.outcome.toast": "발송 여부 미확인 — 확인 중 (발송 #{id}). 자동으로 다시 보내지 않습니다: 발송 내역을 보세요.",
    "sms.outcome.not_found_yet": "응답 유실, 게이트웨이에서 아직 보이지 않음 — 확인 중",
    "sms.outcome.never_arrived": (
        "{minutes}분 동안 {lookups}번 조회했으나 NHN에 없음: 발송되지 않았습니다. 재발송은 직접만 "
        "가능합니다(발송 화면에서 다시 보내세요)"
    ),
    "sms.outcome.detail_unknown": (
        "발송 여부 미확인 — 확인 중: 게이트웨이의 응답을 받지 못했습니다. 열려 있는 콘솔이 30초마다 "
        "게이트웨이에서 조회하며, 자동으로 다시 보내지 않습니다. 마지막 조회: {at}."
    ),
    "sms.outcome.never_looked_up": "아직 없음",
    "smsh.state.unknown": "미확인",
    "sms.outcome.recipients_unknown": "#{id} {type} · 수신자 {count}명 · 발송 여부 미확인 — 확인 중",
    "sms.outcome.cancel_not_found": "발송 #{id}: 없거나 본인의 발송이 아닙니다.",
}
