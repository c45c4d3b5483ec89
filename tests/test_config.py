import pytest

from gkd.config import merge_overrides, parse_value
from gkd.errors import GkdError

DEFAULTS = {"lr": 0.01, "hidden_channels": 64, "batch_norm": False, "norm": None,
            "conv": "sage"}


def _set(key: str, text: str):
    return merge_overrides(DEFAULTS, {key: parse_value(text)}, "student")[key]


def test_values_take_the_type_of_their_default():
    assert _set("hidden_channels", "128.0") == 128
    assert isinstance(_set("hidden_channels", "128.0"), int)
    assert _set("lr", "1") == 1.0 and isinstance(_set("lr", "1"), float)
    assert _set("batch_norm", "true") is True
    assert _set("norm", "batch") == "batch"
    assert _set("conv", "gcn") == "gcn"
    assert _set("hidden_channels", "null") is None  # switches an optional setting off


@pytest.mark.parametrize("key,text,problem", [
    ("lr", "true", "takes a number"),
    ("lr", "fast", "takes a number"),
    ("hidden_channels", "NaN", "finite"),
    ("hidden_channels", "Infinity", "finite"),
    ("lr", "1e400", "finite"),
    ("hidden_channels", "1.5", "integer"),
    ("batch_norm", "yes", "true or false"),
    ("batch_norm", "1", "true or false"),
])
def test_a_value_of_the_wrong_kind_is_named(key, text, problem):
    with pytest.raises(GkdError, match=f"student option {key} {problem}|{problem}"):
        _set(key, text)


def test_an_unknown_option_lists_the_known_ones():
    with pytest.raises(GkdError, match="unknown student option.*known: batch_norm, conv"):
        merge_overrides(DEFAULTS, {"hiden": 3}, "student")
