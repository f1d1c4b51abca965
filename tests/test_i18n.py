from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from callhub import i18n

ROOT = Path(__file__).resolve().parents[1]


def test_negotiation():
    assert i18n.negotiate(None) == "pt_BR"
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("pt-BR,pt;q=0.9,en;q=0.8") == "pt_BR"
    assert i18n.negotiate("fr-FR, en;q=0.5") == "en"
    assert i18n.negotiate("de") == "pt_BR"
    assert i18n.negotiate("en;q=0, pt;q=0.1") == "pt_BR"


def test_every_string_has_an_english_translation(tmp_path: Path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "extract", "-F", "babel.cfg", "-k", "N_", "-k", "_", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    po = ROOT / "src/callhub/locale/en/LC_MESSAGES/messages.po"
    with po.open("rb") as fh:
        # A fuzzy entry is pybabel's guess from a similar text, usually wrong: not a translation.
        have = {m.id: m.string for m in read_po(fh) if m.id and not m.fuzzy}
    untranslated = sorted(m for m in wanted if not have.get(m))
    assert not untranslated, "translate these in locale/en (see README): " + repr(untranslated)
