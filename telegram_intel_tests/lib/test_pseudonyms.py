from __future__ import annotations

import hashlib
import hmac
import os
import re
import subprocess
import sys

import pytest

from telegram_intel.lib.pseudonyms import Pseudonymizer, pseudonym

SECRET = "test-secret-do-not-use"


def test_pseudonym_is_hmac_sha256_of_the_id():
    expected = "user_" + hmac.new(SECRET.encode(), b"123456789", hashlib.sha256).hexdigest()[:8]
    assert pseudonym(123456789, SECRET) == expected
    assert pseudonym("123456789", SECRET) == expected  # int and str ids agree
    assert re.fullmatch(r"user_[0-9a-f]{8}", expected)
    assert "123456789" not in expected


def test_pseudonym_stable_across_processes():
    # a fresh interpreter has a different hash seed: the value must not depend on it
    code = f"from telegram_intel.lib.pseudonyms import pseudonym; print(pseudonym(42, {SECRET!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout.strip()
    assert out == pseudonym(42, SECRET) == Pseudonymizer(SECRET).pseudonym(42)


def test_pseudonym_depends_on_secret_and_id():
    assert pseudonym(42, SECRET) != pseudonym(42, SECRET + "x")
    assert pseudonym(42, b"other") != pseudonym(42, SECRET)
    ids = range(5000)
    assert len({pseudonym(i, SECRET) for i in ids}) == 5000  # no collisions among a big chat's members


def test_pseudonym_options_and_errors():
    assert re.fullmatch(r"p_[a-z2-7]{10}", pseudonym(1, SECRET, prefix="p_", length=10, alphabet="base32"))
    with pytest.raises(ValueError):
        pseudonym(1, "")
    with pytest.raises(ValueError):
        Pseudonymizer("")
    with pytest.raises(ValueError):
        pseudonym(1, SECRET, alphabet="base64")


@pytest.fixture
def pz() -> Pseudonymizer:
    return Pseudonymizer(SECRET, names={
        "Иван Петров": 1, "@ivan_petrov": 1, "Саша": 2, "Андрей": 3, "Игорь": 4,
        "Ayşe Yılmaz": 5, "@ayse_y": 5, "Mehmet": 6, "Işık": 7, "İrem": 8, "John Smith": 9, "John": 9,
        "Me Myself": 100,
    }, keep_ids=[100])


def test_mentions_replaced_by_user_id_pseudonym(pz):
    text, n = pz.replace("спроси @ivan_petrov или @Ayse_Y")
    assert text == f"спроси @{pz.pseudonym(1)} или @{pz.pseudonym(5)}" and n == 2


def test_unknown_mentions_get_username_pseudonyms_bots_do_not(pz):
    text, n = pz.replace("@someone_else and @gif_bot")
    assert text == f"@{pz.pseudonym('@someone_else')} and @gif_bot" and n == 1
    off = Pseudonymizer(SECRET, pseudonymize_unknown_mentions=False)
    assert off.replace("@someone_else") == ("@someone_else", 0)


def test_mention_inside_email_is_not_a_mention(pz):
    assert pz.replace("ivan@ivan_petrov.com") == ("ivan@ivan_petrov.com", 0)


def test_display_names_with_russian_case_forms(pz):
    p1, p2, p3, p4 = (pz.pseudonym(i) for i in (1, 2, 3, 4))
    assert pz.replace("Передай Ивану Петрову привет")[0] == f"Передай {p1} привет"
    assert pz.replace("Иван Петров пришёл")[0] == f"{p1} пришёл"
    text = pz.replace("Саши нет, позвони Саше, спроси Сашу, с Сашей")[0]
    assert text == f"{p2} нет, позвони {p2}, спроси {p2}, с {p2}"
    assert pz.replace("Андрею и Андрея, Игорем")[0] == f"{p3} и {p3}, {p4}"


def test_word_boundaries_in_cyrillic(pz):
    # other words that start like a name stay as they are
    for text in ("Сашка пришёл", "Ивановы уехали", "Андреевич", "Игорёк", "Мехметов"):
        assert pz.replace(text) == (text, 0)


def test_turkish_names_suffixes_and_case(pz):
    p5, p6, p7, p8 = (pz.pseudonym(i) for i in (5, 6, 7, 8))
    assert pz.replace("Ayşe Yılmaz'a sor")[0] == f"{p5}'a sor"
    assert pz.replace("Mehmet'in arabası, MEHMET geldi")[0] == f"{p6}'in arabası, {p6} geldi"
    assert pz.replace("IŞIK ve irem")[0] == f"{p7} ve {p8}"
    assert pz.replace("Mehmetçik") == ("Mehmetçik", 0)


def test_longest_name_wins_and_kept_ids_untouched(pz):
    p9 = pz.pseudonym(9)
    assert pz.replace("John Smith and John")[0] == f"{p9} and {p9}"
    assert pz.replace("Me Myself here") == ("Me Myself here", 0)


def test_with_names_keeps_secret():
    a = Pseudonymizer(SECRET).with_names({"Олег": 77})
    assert a.replace("Олег тут")[0] == f"{pseudonym(77, SECRET)} тут"
