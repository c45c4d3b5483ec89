import pytest

from gkd.config import merge_overrides, parse_value
from gkd.distill import GLNN
from gkd.distill.llp import LLP
from gkd.errors import GkdError

DEFAULTS = {"lr": 0.01, "hidden_channels": 64, "batch_norm": False, "norm": None,
            "conv": "sage", "grad_clip": 1.0, "batch_size": None, "dropout": 0.5,
            "attn_dropout": 0.3, "code_weight": 1.0, "self_weight": None, "alpha": 0.1}


def _set(key: str, text: str):
    return merge_overrides(DEFAULTS, {key: parse_value(text)}, "student")[key]


def test_values_take_the_type_of_their_default():
    assert _set("hidden_channels", "128.0") == 128
    assert isinstance(_set("hidden_channels", "128.0"), int)
    assert _set("lr", "1") == 1.0 and isinstance(_set("lr", "1"), float)
    assert _set("batch_norm", "true") is True
    assert _set("conv", "gcn") == "gcn"
    assert _set("grad_clip", "null") is None  # switches an optional setting off
    assert _set("batch_size", "null") is None  # off by default
    assert _set("self_weight", "0.5") == 0.5
    assert _set("norm", "layer_norm") == "layer_norm"
    assert _set("lr", ".001") == 0.001 and _set("lr", "1.") == 1.0  # numbers JSON refuses
    assert _set("hidden_channels", "+128") == 128 and _set("hidden_channels", "064") == 64
    assert _set("batch_size", "+64") == 64 and isinstance(_set("batch_size", "+64"), int)


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
    with pytest.raises(GkdError, match="unknown student option.*known: alpha, attn_dropout"):
        merge_overrides(DEFAULTS, {"hiden": 3}, "student")


@pytest.mark.parametrize("key,text,problem", [
    ("lr", "0", "must be positive; got 0.0"),
    ("lr", "null", "must be positive; got None"),
    ("hidden_channels", "0", "must be at least 1; got 0"),
    ("hidden_channels", "null", "must be at least 1; got None"),
    ("batch_size", "0", "must be at least 1; got 0"),
    ("dropout", "1", "must be in [0, 1); got 1.0"),
    ("attn_dropout", "-0.1", "must be in [0, 1); got -0.1"),
    ("code_weight", "-1", "must be non-negative; got -1.0"),
    ("self_weight", "-0.5", "must be non-negative; got -0.5"),
    ("self_weight", "\"half\"", "must be non-negative; got 'half'"),
    ("alpha", "1.5", "must be in [0, 1]; got 1.5"),
    ("norm", "batch",
     "must be one of null (None in Python), 'batch_norm', 'layer_norm'; got 'batch'"),
    ("norm", "0", "must be one of null (None in Python), 'batch_norm', 'layer_norm'; got 0"),
])
def test_a_value_out_of_range_is_named(key, text, problem):
    with pytest.raises(GkdError) as error:
        _set(key, text)
    assert str(error.value) == f"student option {key} {problem}"


def test_dataclass_options_are_checked_on_construction():
    with pytest.raises(GkdError, match=r"^glnn option lr must be positive; got -1$"):
        GLNN(lr=-1)
    with pytest.raises(GkdError, match=r"^llp option rank_weight must be non-negative"):
        LLP(rank_weight=-1.0)
    assert LLP(grad_clip=None).grad_clip is None
    with pytest.raises(GkdError, match=r"^glnn option max_epochs must be an integer; got 2.5$"):
        GLNN(max_epochs=2.5)
    with pytest.raises(GkdError, match=r"^llp option num_walks must be an integer; got 1.5$"):
        LLP(num_walks=1.5)
    for key in ("lr", "temperature", "weight_decay"):
        with pytest.raises(GkdError, match=f"^glnn option {key} must be .*; got inf$"):
            GLNN(**{key: float("inf")})


def test_distiller_options_are_keyword_only():
    # Positional options would bind to the inherited training options first (lr, ...).
    from gkd.distill import DISTILLERS
    from gkd.distill.llp import LINK_DISTILLERS
    for distiller in [*DISTILLERS.values(), *LINK_DISTILLERS.values()]:
        with pytest.raises(TypeError):
            distiller(0.5)

def test_every_default_lies_in_its_range():
    from gkd.condense.experiment import CONDENSER_DEFAULTS
    from gkd.condense.training import MODEL_DEFAULTS, TRAIN_DEFAULTS
    from gkd.config import check_option
    from gkd.data import DATASETS
    from gkd.distill import DISTILLERS
    from gkd.distill.llp import LINK_DISTILLERS
    from gkd.experiment import node_config
    from gkd.link_teachers import LINK_TEACHERS
    from gkd.linkpred import link_config
    from gkd.teachers import TEACHERS

    configs = [MODEL_DEFAULTS, TRAIN_DEFAULTS, CONDENSER_DEFAULTS]
    for dataset in [None, *DATASETS]:
        for teacher in TEACHERS:
            configs += node_config(dataset, teacher, "glnn").values()
        for method in DISTILLERS:
            configs += node_config(dataset, "sage", method).values()
        for teacher in LINK_TEACHERS:
            for method in LINK_DISTILLERS:
                configs += link_config(dataset, teacher, method).values()
    for config in configs:
        for key, value in config.items():
            check_option(key, value, key, value)


def test_dataset_defaults_ignore_the_case_of_the_name():
    from gkd.distill import GLNN, VQGraph
    from gkd.teachers import teacher_config

    # PyG's dataset.name is "Cora"; gkd's names are lower case
    assert GLNN.defaults("Cora") == GLNN.defaults("cora") != GLNN.defaults(None)
    assert teacher_config("gat", "CiteSeer") == teacher_config("gat", "citeseer")
    assert VQGraph.configure_teacher("sage", "A-Computer") == \
        VQGraph.configure_teacher("sage", "a-computer")


def test_full_teacher_configs_from_python_are_checked(csbm):
    from gkd.data import make_node_task
    from gkd.data.links import make_link_task
    from gkd.knowledge import teacher_knowledge
    from gkd.link_teachers import link_teacher_config, link_teacher_knowledge
    from gkd.teachers import teacher_config

    task = make_node_task(csbm, "cpf")
    gcn = teacher_config("gcn")
    for config, message in [(gcn, "teacher sage configuration: missing aggr"),
                            ({**teacher_config("sage"), "lr": -1},
                             "teacher sage option lr must be positive; got -1"),
                            ({**teacher_config("sage"), "dropout": 1.0},
                             r"dropout must be in \[0, 1\); got 1.0")]:
        with pytest.raises(GkdError, match=message):
            teacher_knowledge(task, "sage", config, use_cache=False)
    link_task = make_link_task(csbm, "transductive")
    with pytest.raises(GkdError, match="link teacher sage configuration: unknown dropuot"):
        link_teacher_knowledge(link_task, "sage", {**link_teacher_config("sage"), "dropuot": 0})
    assert link_teacher_config("sage", "A-Photo") == link_teacher_config("sage", "a-photo")
