from telegram_intel.lib.erasure import names_erased, scrub_erased


def test_reactions_and_entity_ids_of_an_erased_person_go_and_counts_follow():
    reactions = [{"type": "emoji", "count": 3, "emoji": "👍",
                  "recent": [{"from": "A", "from_id": "user7"}, {"from": "B", "from_id": "user8"},
                             {"from": "A", "from_id": "user7"}]},
                 {"recent": [{"peer_id": 7}], "count": 1, "type": "emoji"}]
    out, n = scrub_erased(reactions, {7})
    assert n == 3
    assert out == [{"type": "emoji", "count": 1, "emoji": "👍", "recent": [{"from": "B", "from_id": "user8"}]},
                   {"recent": [], "count": 0, "type": "emoji"}]
    assert reactions[0]["count"] == 3  # a copy: the input is left alone
    entities = [{"type": "mention_name", "text": "A", "user_id": 7}, {"type": "plain", "text": " hi"}]
    assert scrub_erased(entities, {7}) == ([{"type": "mention_name", "text": "A"}, {"type": "plain", "text": " hi"}], 1)


def test_other_ids_and_numbers_that_only_look_alike_stay():
    value = {"count": 7, "recent": [{"from_id": "user77"}, {"from_id": "channel7"}], "user_id": 70, "id": 7}
    assert scrub_erased(value, {7}) == (value, 0)
    assert not names_erased(value, {7}) and names_erased({"x": [{"from_id": 7}]}, {7})
    assert scrub_erased(value, set()) == (value, 0)
