import threading

import pytest
import torch

from gkd.errors import GkdError
from gkd.ops import REDUCTIONS, available_backends, get_backend, scatter, segment, use_backend

needs_torch_scatter = pytest.mark.skipif("torch_scatter" not in available_backends(),
                                         reason="torch-scatter is not installed")


def _naive(src, index, dim_size, reduce):
    out = torch.zeros(dim_size, *src.shape[1:])
    for i in range(dim_size):
        rows = src[index == i]
        if rows.numel():
            out[i] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.amax(0),
                      "min": rows.amin(0)}[reduce]
    return out


def _inputs(seed, rows=200, size=37, width=5):
    gen = torch.Generator().manual_seed(seed)
    # integer-valued floats: every summation order gives the same bits
    src = torch.randint(-50, 50, (rows, width), generator=gen).float()
    index = torch.randint(size - 3, (rows,), generator=gen)  # the last rows stay empty
    return src, index, size


def _sorted_inputs(seed):
    src, index, size = _inputs(seed)
    index, order = index.sort(stable=True)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long),
                     torch.bincount(index, minlength=size).cumsum(0)])
    return src[order], index, ptr, size


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_plain_torch_scatter_matches_a_naive_loop(reduce):
    src, index, size = _inputs(0)
    with use_backend("torch"):
        out = scatter(src, index, size, reduce)
    torch.testing.assert_close(out, _naive(src, index, size, reduce))


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_plain_torch_segment_matches_scatter_on_sorted_indices(reduce):
    src, index, ptr, size = _sorted_inputs(1)
    with use_backend("torch"):
        torch.testing.assert_close(segment(src, ptr, reduce), scatter(src, index, size, reduce))


def test_reductions_pass_gradients():
    src = torch.randn(6, 2, requires_grad=True)
    index = torch.tensor([0, 0, 1, 1, 1, 3])
    ptr = torch.tensor([0, 2, 5, 5, 6])
    with use_backend("torch"):
        (scatter(src, index, 4, "mean").sum() + segment(src, ptr, "max").sum()
         + segment(src, ptr, "mean").sum() + segment(src[:, 0], ptr, "sum").sum()).backward()
    assert src.grad is not None and torch.isfinite(src.grad).all()


def test_unknown_reduction_and_backend_are_named():
    with pytest.raises(GkdError, match="unknown reduction 'prod'"):
        scatter(torch.ones(2), torch.zeros(2, dtype=torch.long), 1, "prod")
    with pytest.raises(GkdError, match="unknown ops backend 'cuda'"):
        with use_backend("cuda"):
            pass


def test_environment_variable_forces_plain_torch(monkeypatch):
    monkeypatch.setenv("GKD_OPS_BACKEND", "torch")
    assert get_backend() == "torch"


@needs_torch_scatter
@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("seed", range(3))
def test_scatter_and_segment_agree_exactly_across_backends(reduce, seed):
    src, index, size = _inputs(seed, width=7)
    sorted_index, order = index.sort(stable=True)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long),
                     torch.bincount(sorted_index, minlength=size).cumsum(0)])
    results = {}
    for backend in ("torch", "torch_scatter"):
        with use_backend(backend):
            results[backend] = (scatter(src, index, size, reduce),
                                segment(src[order], ptr, reduce))
    for plain, fast in zip(results["torch"], results["torch_scatter"]):
        assert torch.equal(plain, fast)


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_integer_values_are_rejected_on_every_backend(backend, reduce):
    src = torch.tensor([-3, 4, -5, 7])
    with use_backend(backend):
        with pytest.raises(GkdError, match="floating-point values; got torch.int64"):
            scatter(src, torch.tensor([0, 0, 1, 1]), 2, reduce)
        with pytest.raises(GkdError, match="floating-point values; got torch.bool"):
            segment(src > 0, torch.tensor([0, 2, 4]), reduce)


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_segments_match_float32_on_every_backend(backend, reduce, dtype):
    src, _, ptr, _ = _sorted_inputs(0)
    with use_backend(backend):
        out = segment(src.to(dtype), ptr, reduce)
    torch.testing.assert_close(out, segment(src, ptr, reduce).to(dtype))  # dtype tolerances


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_no_rows_reduce_to_zeros_on_every_backend(backend, reduce):
    with use_backend(backend):
        out = segment(torch.empty(0, 3), torch.tensor([0, 0, 0]), reduce)
        assert torch.equal(out, torch.zeros(2, 3))
        assert torch.equal(scatter(torch.empty(0, 3), torch.empty(0, dtype=torch.long), 2,
                                   reduce), torch.zeros(2, 3))


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("index, message", [
    (torch.tensor([0, 5, 0]), r"in \[0, 4\); index holds ids from 0 to 5"),
    (torch.tensor([0, -1, 0]), r"index holds ids from -1 to 0"),
    (torch.tensor([[0], [1], [0]]), r"node ids; got torch.int64 of shape \(3, 1\)"),
    (torch.tensor([0, 1]), r"one entry per row of src \(3\); got 2"),
    (torch.tensor([0.0, 1.0, 0.0]), r"integer vector"),
])
def test_bad_scatter_indices_are_named_on_every_backend(backend, reduce, index, message):
    # torch-scatter's CPU kernels would write out of bounds (a crash or a wrong result)
    with use_backend(backend), pytest.raises(GkdError, match=message):
        scatter(torch.ones(3, 2), index, 4, reduce)


@pytest.mark.parametrize("dim_size", [-1, 2.0, None])
def test_a_bad_scatter_size_is_named(dim_size):
    with pytest.raises(GkdError, match=f"dim_size must be an integer of at least 0; got "
                                       f"{dim_size}"):
        scatter(torch.ones(2), torch.tensor([0, 1]), dim_size)


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("ptr, message", [
    (torch.tensor([0, 2, 5]), "must rise from 0 to 3 .* from 0 to 5"),
    (torch.tensor([0, 2]), "must rise from 0 to 3 .* from 0 to 2"),
    (torch.tensor([0, 3, 2, 3]), "without decreasing"),
    (torch.tensor([1, 3]), "from 1 to 3"),
    (torch.tensor([0]), "must rise from 0 to 3"),
    (torch.tensor([], dtype=torch.long), "non-empty integer vector"),
    (torch.tensor([[0, 3]]), "non-empty integer vector of offsets; got torch.int64 of shape"),
])
def test_bad_segment_offsets_are_named_on_every_backend(backend, reduce, ptr, message):
    with use_backend(backend), pytest.raises(GkdError, match=message):
        segment(torch.ones(3, 2), ptr, reduce)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_int32_indices_and_offsets_give_the_same_result_on_every_backend(reduce):
    src, index, ptr, size = _sorted_inputs(2)
    for backend in available_backends():
        with use_backend(backend):
            assert torch.equal(scatter(src, index.int(), size, reduce),
                               scatter(src, index, size, reduce))
            assert torch.equal(segment(src, ptr.int(), reduce), segment(src, ptr, reduce))


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_long_half_precision_sums_add_up_in_float32_on_every_backend(backend, dtype):
    src, ptr = torch.ones(3000, 1, dtype=dtype), torch.tensor([0, 3000])
    index = torch.zeros(3000, dtype=torch.long)
    big = torch.full((2, 1), 6e4, dtype=dtype)  # their float16 sum overflows
    with use_backend(backend):  # bfloat16 additions stall at 256, float16 ones at 2048
        for total in (segment(src, ptr, "sum"), scatter(src, index, 1, "sum")):
            assert total.item() == torch.tensor(3000.0).to(dtype).item()
        assert segment(src, ptr, "mean").item() == scatter(src, index, 1, "mean").item() == 1
        assert segment(big, torch.tensor([0, 2]), "mean").item() == big[0].item()
        assert scatter(big, torch.zeros(2, dtype=torch.long), 1, "mean").item() == big[0].item()


@pytest.mark.parametrize("backend", available_backends())
def test_infinite_and_extreme_values_survive_max_and_min_on_every_backend(backend):
    big = torch.finfo(torch.float32).max
    src = torch.tensor([-float("inf"), -float("inf"), -big, 2.0])
    index, ptr = torch.tensor([0, 0, 1, 2]), torch.tensor([0, 2, 3, 4])
    with use_backend(backend):
        assert scatter(src, index, 4, "max").tolist() == [-float("inf"), -big, 2.0, 0.0]
        assert scatter(-src, index, 4, "min").tolist() == [float("inf"), big, -2.0, 0.0]
        assert segment(src, ptr, "max").tolist() == [-float("inf"), -big, 2.0]


@pytest.mark.parametrize("backend", available_backends())
def test_segments_of_no_rows_keep_the_autograd_graph(backend):
    src = torch.empty(0, 3, requires_grad=True)
    with use_backend(backend):
        segment(src, torch.tensor([0, 0, 0])).sum().backward()
    assert torch.equal(src.grad, torch.empty(0, 3))


def test_a_backend_block_switches_its_own_thread_only():
    other = "torch" if get_backend() != "torch" else available_backends()[-1]
    seen, entered = [], threading.Event()

    def look():
        entered.wait()
        seen.append(get_backend())

    before = get_backend()
    thread = threading.Thread(target=look)
    thread.start()
    with use_backend(other):
        entered.set()
        thread.join()
        assert get_backend() == other
    assert seen == [before] and get_backend() == before
