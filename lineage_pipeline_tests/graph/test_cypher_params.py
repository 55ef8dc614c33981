"""Spec of graph.cypher_params: the parameter header is exactly the falkordb client's own, for any value."""

import random
import string

import pytest
from falkordb.graph import Graph

from lineage_pipeline.graph.cypher_params import params_header

CLIENT = Graph.__new__(Graph)  # only its pure header builder is used: no connection


def _value(rnd: random.Random, depth: int = 0):
    choice = rnd.random()
    if depth < 3 and choice < 0.15:
        return [_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    if depth < 3 and choice < 0.3:
        suffixes = ["", "-x", "@t", " s", "é", "日"]
        return {f"k{i}{rnd.choice(suffixes)}": _value(rnd, depth + 1) for i in range(rnd.randint(0, 3))}
    if choice < 0.5:
        alphabet = string.printable + "\"\\'`éü日本\x00\u2028"
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
    if choice < 0.6:
        return rnd.randint(-(10**12), 10**12)
    if choice < 0.7:
        return rnd.random() * 10 ** rnd.randint(-5, 20)
    if choice < 0.75:
        return None
    if choice < 0.8:
        return rnd.choice([True, False])
    if choice < 0.85:
        return (_value(rnd, depth + 1), _value(rnd, depth + 1))
    return rnd.choice([float("inf"), float("-inf"), float("nan"), 1e300, 1e-300, 0.1, b"bytes\"\\"])


@pytest.mark.parametrize("seed", range(4))
def test_any_value_is_encoded_exactly_as_the_client_encodes_it(seed):
    rnd = random.Random(seed)
    for _ in range(2000):
        params = {"rows": _value(rnd), "x": _value(rnd)}
        assert params_header(params) == CLIENT._build_params_header(params), params


def test_hostile_identifier_values_are_quoted_like_the_client_does():
    rows = [{"key": 'dbo.[x"] ; MATCH (n) DETACH DELETE n //', "file": "a\\b\"c.sql", "lines": [1, 2]}]
    assert params_header({"rows": rows}) == CLIENT._build_params_header({"rows": rows})


@pytest.mark.parametrize("key", ["", "a`b"])
def test_keys_the_header_cannot_hold_raise_the_clients_error(key):
    with pytest.raises(ValueError, match="cannot"):
        params_header({"rows": [{key: 1}]})
    assert params_header(None) == "" == CLIENT._build_params_header(None)


def test_relationship_rows_travel_as_lists_naming_each_file_once():
    from lineage_pipeline.graph.cypher import relationship_params

    rows = [
        {"src": "a.x", "dst": "b.y", "transform": "direct", "file": "f.sql", "rev": "r1"},
        {"src": "a.z", "dst": "b.y", "transform": "cast", "file": "g.sql", "rev": "r2"},
        {"src": "a.w", "dst": "b.y", "transform": "direct", "file": "f.sql", "rev": "r1"},
        "not a row",
    ]
    assert relationship_params("DERIVES", rows) == {
        "files": [["f.sql", "r1"], ["g.sql", "r2"], [None, None]],
        "rows": [["a.x", "b.y", 0, "direct"], ["a.z", "b.y", 1, "cast"], ["a.w", "b.y", 0, "direct"], [None, None, 2, None]],
    }
