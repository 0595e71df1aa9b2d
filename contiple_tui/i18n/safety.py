"""Messages of text safety (data shown as text; input refused at the door): English and Korean side by side. Merged into the catalogs by __init__.py."""

EN: dict[str, str] = {
    "err.unsafe_text": "{field} must not contain control or bidirectional characters (found {chars}).",
    "field.login": "The login",
    "field.name": "The name",
    "field.cti_id": "The CTI id",
    "field.service_code": "The service code",
    "field.service_name": "The service name",
    "field.sender": "A sender number",
    "field.ivr": "An IVR route",
    "field.timezone": "The time zone",
    "field.sms_title": "The SMS title",
    "field.sms_body": "The SMS body",
    "field.category_name": "The category name",
    "field.template_name": "The template name",
    "field.description": "The description",
}

KO: dict[str, str] = {
    "err.unsafe_text": "{field}에는 제어 문자나 양방향 문자를 쓸 수 없습니다 (발견: {chars}).",
    "field.login": "로그인",
    "field.name": "이름",
    "field.cti_id": "CTI ID",
    "field.service_code": "서비스 코드",
    "field.service_name": "서비스명",
    "field.sender": "발신번호",
    "field.ivr": "IVR 경로",
    "field.timezone": "시간대",
    "field.sms_title": "SMS 제목",
    "field.sms_body": "SMS 본문",
    "field.category_name": "분류명",
    "field.template_name": "템플릿명",
    "field.description": "설명",
}
