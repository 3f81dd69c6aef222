"""The English and Simplified Chinese catalogs cover every string in the code and templates."""
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = {"en": ROOT / "app/translations/en/LC_MESSAGES/messages.po",
            "zh_Hans": ROOT / "app/translations/zh_Hans/LC_MESSAGES/messages.po"}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(ROOT)],
                   check=True, cwd=ROOT, capture_output=True)
    with pot.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def _catalog(locale):
    with CATALOGS[locale].open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.mark.parametrize("locale", list(CATALOGS))
def test_catalog_has_every_string(extracted, locale):
    catalog = _catalog(locale)
    present = {message.id for message in catalog if message.id}
    missing = sorted(str(m) for m in extracted - present)
    assert not missing, f"{locale} catalog is missing {len(missing)} strings (run `make messages`): {missing[:10]}"


def test_chinese_catalog_translates_everything(extracted):
    catalog = _catalog("zh_Hans")
    untranslated = []
    for message in catalog:
        if not message.id or message.id not in extracted:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        if message.fuzzy or not all(strings):
            untranslated.append(str(message.id))
    assert not untranslated, f"untranslated or fuzzy in zh_Hans: {untranslated[:10]}"


def test_placeholders_survive_translation():
    import re

    for message in _catalog("zh_Hans"):
        if message.id and message.string and isinstance(message.id, str):
            assert set(re.findall(r"%\(\w+\)s", message.id)) == set(re.findall(r"%\(\w+\)s", message.string)), \
                message.id
