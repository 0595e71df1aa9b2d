"""Which gateway a service sends through: NHN Cloud when it has keys, the sandbox otherwise.

``[sms] gateway`` (or CONTIPLE_TUI_SMS_GATEWAY) forces one for every service: "nhn" refuses to send
for a service without keys rather than silently using the sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contiple_tui.sms.gateway import Gateway, GatewayError, SandboxGateway

if TYPE_CHECKING:
    from contiple_tui.config import SmsSettings
    from contiple_tui.domain.models import Service


def gateway_name(settings: SmsSettings, service: Service) -> str:
    if settings.gateway == "sandbox":
        return "sandbox"
    if settings.gateway == "nhn":
        return "nhn"
    return "nhn" if settings.keys_for(service.code) else "sandbox"


def gateway_for(settings: SmsSettings, service: Service) -> Gateway:
    """The gateway a new send of ``service`` goes through."""
    return gateway_by_name(settings, service, gateway_name(settings, service))


def gateway_by_name(settings: SmsSettings, service: Service, name: str) -> Gateway:
    """The gateway an earlier send went through (its refresh and cancel must go there too)."""
    if name == "sandbox":
        return SandboxGateway(service.sender_numbers)
    keys = settings.keys_for(service.code)
    if keys is None:
        raise GatewayError("sms.err.gateway_no_keys", service=service.code)
    from contiple_tui.sms.nhn import NhnGateway  # httpx only when NHN is used

    return NhnGateway(
        settings.base_url,
        keys.app_key,
        keys.secret_key,
        timeout=settings.timeout,
        request_tz=settings.request_timezone,
    )
