"""Every message exists in Korean and English, with the same placeholders."""

import string

import pytest

from contiple_tui.domain.menus import GROUPS, MENUS
from contiple_tui.domain.models import CallbackStatus, OutboundTicketMode, Perm, Role
from contiple_tui.domain.permissions import Action
from contiple_tui.i18n import AREAS, CATALOGS, detect_language, set_language, t

EN, KO = CATALOGS["en"], CATALOGS["ko"]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_same_keys_in_both_languages():
    assert set(KO) == set(EN)
    for area in AREAS:  # and area by area: each module keeps its two languages side by side
        assert set(area.KO) == set(area.EN), area.__name__


def test_a_key_belongs_to_one_area():
    keys = [key for area in AREAS for key in area.EN]
    assert len(keys) == len(set(keys)) == len(EN)


@pytest.mark.parametrize("key", sorted(EN))
def test_same_placeholders(key):
    assert _fields(KO[key]) == _fields(EN[key]), key


def test_korean_catalog_is_korean():
    """Guard against copying English into a KO dict: most Korean messages contain Hangul."""
    hangul = [k for k, v in KO.items() if any("\uac00" <= ch <= "\ud7a3" for ch in v)]
    assert len(hangul) > 0.8 * len(KO)


def test_dynamic_keys_exist():
    keys = [f"menu.{m.id}" for m in MENUS] + [f"about.{m.id}" for m in MENUS]
    keys += [f"group.{g}" for g in GROUPS] + [f"role.{r}" for r in Role] + [f"perm.{p}" for p in Perm]
    keys += [f"status.{s}" for s in CallbackStatus] + [f"outbound.{m}" for m in OutboundTicketMode]
    keys += [f"action.{a}" for a in Action]
    keys += [f"cti.{s}" for s in ("connected", "connecting", "offline", "stale")]
    for key in keys:
        assert key in EN and key in KO, key


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"LANG": "ko_KR.UTF-8"}, "ko"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "ko_KR.UTF-8"}, "en"),
        # No supported language named (PuTTY over SSH sends no locale): Korean, the product's language.
        ({"LC_ALL": "C", "LANG": "en_US.UTF-8"}, "ko"),
        ({"LANG": "C.UTF-8"}, "ko"),
        ({"LANG": "POSIX"}, "ko"),
        ({"LANG": "ja_JP.UTF-8"}, "ko"),
        ({}, "ko"),
    ],
)
def test_detect_language(environ, expected):
    assert detect_language(environ) == expected


def test_t_uses_current_language():
    set_language("ko")
    assert t("menu.callback_list") == "콜백 리스트"
    set_language("en")
    assert t("menu.callback_list") == "Callback list"
    assert t("err.unknown_user", "ko", login="x").startswith("알 수 없는 사용자 'x'")
