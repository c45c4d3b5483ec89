import math

import pytest
import torch
import torch.nn.functional as F

from gkd.nn import VectorQuantizer, code_scores, codebook_usage

CODES = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


def _vq(codes=CODES, **kwargs):
    vq = VectorQuantizer(codes.size(0), codes.size(1), **kwargs)
    vq.set_codebook(codes)
    return vq


def test_nearest_code_euclidean():
    vq = _vq(similarity="euclidean").eval()
    x = torch.tensor([[1.0, 1.0], [9.0, -1.0], [-1.0, 8.0], [6.0, 0.0]])
    out = vq(x)
    assert out.indices.tolist() == [0, 1, 2, 1]
    assert torch.equal(out.quantized, CODES[[0, 1, 2, 1]])
    assert torch.allclose(out.scores, -torch.cdist(x, CODES).pow(2), atol=1e-4)
    assert torch.allclose(code_scores(x, CODES, "euclidean", squared=False),
                          -torch.cdist(x, CODES), atol=1e-4)


def test_nearest_code_cosine():
    codes = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, -3.0]])
    vq = _vq(codes).eval()  # cosine by default
    assert torch.allclose(vq.codebook.norm(dim=-1), torch.ones(3))
    x = torch.tensor([[5.0, 1.0], [0.1, 3.0], [-1.0, -2.0], [0.0, -0.1]])
    out = vq(x)
    assert out.indices.tolist() == [0, 1, 2, 2]
    assert torch.allclose(out.scores, F.normalize(x) @ F.normalize(codes).t())
    assert torch.allclose(out.quantized, F.normalize(codes)[[0, 1, 2, 2]])
    assert torch.allclose(out.loss, 0.25 * F.mse_loss(F.normalize(x), out.quantized))


def test_ema_update_matches_hand_computation():
    vq = _vq(CODES[:2], similarity="euclidean", decay=0.5).train()
    x = torch.tensor([[1.0, 0.0], [-1.0, 2.0], [9.0, 1.0]])  # codes 0, 0, 1
    vq(x)
    # N = 0.5 * [1, 1] + 0.5 * [2, 1];  m = 0.5 * codes + 0.5 * [[0, 2], [9, 1]]
    assert torch.allclose(vq.cluster_size, torch.tensor([1.5, 1.0]))
    assert torch.allclose(vq.embed_sum, torch.tensor([[0.0, 1.0], [9.5, 0.5]]))
    total, eps = 2.5, 1e-5
    smoothed = (torch.tensor([1.5, 1.0]) + eps) / (total + 2 * eps) * total
    expected = torch.tensor([[0.0, 1.0], [9.5, 0.5]]) / smoothed.unsqueeze(-1)
    assert torch.allclose(vq.codebook, expected)
    assert torch.allclose(vq.codebook, torch.tensor([[0.0, 2 / 3], [9.5, 0.5]]), atol=1e-4)


def test_eval_mode_does_not_update():
    vq = _vq(dead_code_threshold=5.0).eval()
    state = {k: v.clone() for k, v in vq.state_dict().items()}
    vq(torch.randn(8, 2))
    assert all(torch.equal(state[k], v) for k, v in vq.state_dict().items())


def test_dead_code_revival_resets_ema_stats():
    vq = _vq(similarity="euclidean", dead_code_threshold=0.9).train()
    x = torch.tensor([[0.5, 0.0], [9.5, 0.0], [0.0, 0.5], [10.0, 1.0]])  # code 2 never used
    vq(x)
    new = vq.codebook[2]
    assert any(torch.equal(new, row) for row in x)  # a row of the batch
    assert vq.cluster_size[2] == 0.9
    assert torch.allclose(vq.embed_sum[2], new * 0.9)
    assert vq.cluster_size[:2].tolist() == pytest.approx([1.2, 1.2])  # 0.8 * 1 + 0.2 * 2
    # the revived code is an exact fixed point of the next update when it keeps one row
    vq(new.unsqueeze(0))
    assert torch.allclose(vq.codebook[2], new, atol=1e-4)


def test_a_long_unused_cosine_code_keeps_its_unit_direction():
    vq = VectorQuantizer(3, 2, similarity="cosine", decay=0.8).train()
    vq.set_codebook(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    for _ in range(400):  # code 2 unused: its EMA sums decay below what normalises
        vq(torch.tensor([[1.0, 0.1], [0.1, 1.0]]))
    assert vq.codebook[2].tolist() == [-1.0, 0.0]
    out = vq.eval()(torch.tensor([[-1.0, 0.05]]))
    assert out.indices.tolist() == [2] and out.quantized.tolist() == [[-1.0, 0.0]]


def test_a_zero_row_in_half_precision_leaves_the_cosine_codebook_finite():
    torch.manual_seed(0)
    vq = VectorQuantizer(4, 8, similarity="cosine").half().train()
    x = torch.randn(5, 8).half()
    x[0] = 0  # 1e-12 as a float16 floor would be 0: 0 / 0
    out = vq(x)
    assert torch.isfinite(out.quantized).all() and torch.isfinite(out.loss)
    assert torch.isfinite(vq.codebook).all()


def test_straight_through_gradients_and_commitment():
    vq = _vq(similarity="euclidean", commitment_weight=0.5).train()
    x = torch.tensor([[1.0, 1.0], [9.0, -1.0]], requires_grad=True)
    out = vq(x)
    assert torch.equal(out.quantized, CODES[:2])
    upstream = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    (out.quantized * upstream).sum().add(out.loss).backward()
    commit = 0.5 * 2 * (x.detach() - CODES[:2]) / x.numel()
    assert torch.allclose(x.grad, upstream + commit)
    assert not vq.codebook.requires_grad


def test_learned_codebook_gets_gradient():
    vq = _vq(similarity="euclidean", ema=False).train()
    assert isinstance(vq.codebook, torch.nn.Parameter)
    x = torch.tensor([[1.0, 1.0], [9.0, -1.0]], requires_grad=True)
    out = vq(x)
    out.loss.backward()
    expected = torch.zeros(3, 2)
    expected[:2] = 2 * (CODES[:2] - x.detach()) / x.numel()
    assert torch.allclose(vq.codebook.grad, expected)
    assert torch.equal(vq.codebook.detach(), CODES)  # no EMA step on a learned codebook


def test_learned_cosine_codebook_with_revival_backpropagates():
    vq = VectorQuantizer(4, 3, ema=False, dead_code_threshold=2.0).train()
    x = torch.randn(6, 3, requires_grad=True)
    before = vq.codebook.detach().clone()
    out = vq(x)
    assert not torch.equal(vq.codebook.detach(), before)  # revived in place
    (out.loss + out.scores.sum()).backward()  # the in-place revival must not break backward
    assert vq.codebook.grad is not None and x.grad is not None


def test_rotation_trick():
    vq = _vq(CODES[1:], similarity="euclidean", commitment_weight=0.0, rotation_trick=True)
    x = torch.tensor([[4.0, 3.0]], requires_grad=True)  # nearest code (10, 0)
    out = vq.train()(x)
    assert torch.allclose(out.quantized, CODES[1:2])
    g = torch.tensor([[1.0, 2.0]])
    (out.quantized * g).sum().backward()
    # a rotation keeps the norm; the scale is ||q|| / ||x|| = 10 / 5
    assert torch.allclose(x.grad.norm(), 2 * g.norm())
    # x's direction is mapped onto q's, so the gradient along x is 2 * (g along q)
    assert torch.allclose((x.grad * x.detach() / 5).sum(), 2 * g[0, 0])


@pytest.mark.parametrize("similarity", ["euclidean", "cosine"])
def test_the_rotation_trick_keeps_a_zero_row_finite_in_float16(similarity):
    x = torch.tensor([[0.0, 0.0], [9.0, 1.0]])
    expected = _vq(CODES, similarity=similarity).eval()(x).quantized
    vq = _vq(CODES, similarity=similarity, rotation_trick=True).half().train()
    assert torch.equal(vq(x.half()).quantized, expected.half())


@pytest.mark.parametrize("similarity", ["euclidean", "cosine"])
def test_kmeans_init_finds_separated_clusters(similarity):
    centers = torch.tensor([[10.0, 0.0], [0.0, 10.0], [-10.0, -10.0]])
    x = (centers.repeat_interleave(5, 0) + 0.1 * torch.randn(15, 2))[torch.randperm(15)]
    vq = VectorQuantizer(3, 2, similarity=similarity, kmeans_init=True, decay=0.0)
    assert not vq.initialized
    out = vq.train()(x)
    assert vq.initialized
    target = F.normalize(centers) if similarity == "cosine" else centers
    nearest = torch.cdist(target, vq.codebook).argmin(dim=-1)
    assert sorted(nearest.tolist()) == [0, 1, 2]
    assert torch.cdist(target, vq.codebook).min(dim=-1).values.max() < 0.2
    assert vq.usage(out.indices) == {"perplexity": pytest.approx(3.0), "dead_fraction": 0.0}


def test_kmeans_init_is_seeded():
    x = torch.randn(12, 3)
    books = []
    for _ in range(2):
        torch.manual_seed(1)
        vq = VectorQuantizer(4, 3, kmeans_init=True).train()
        vq(x)
        books.append(vq.codebook.clone())
    assert torch.equal(*books)


@pytest.mark.parametrize("ema", [True, False])
def test_state_dict_round_trip(ema):
    vq = VectorQuantizer(5, 3, ema=ema, kmeans_init=True).train()
    vq(torch.randn(10, 3))
    copy = VectorQuantizer(5, 3, ema=ema, kmeans_init=True)
    assert set(copy.state_dict()) == {"codebook", "cluster_size", "embed_sum", "initialized"}
    copy.load_state_dict(vq.state_dict())
    assert copy.initialized
    x = torch.randn(7, 3)
    assert torch.equal(copy.eval()(x).indices, vq.eval()(x).indices)


def test_codebook_usage():
    assert codebook_usage(torch.arange(8) % 4, 4) == {"perplexity": pytest.approx(4.0),
                                                      "dead_fraction": 0.0}
    assert codebook_usage(torch.zeros(5, dtype=torch.long), 4) == {
        "perplexity": pytest.approx(1.0), "dead_fraction": 0.75}
    usage = codebook_usage(torch.tensor([0, 0, 1, 1]), 3)
    assert usage["perplexity"] == pytest.approx(math.exp(math.log(2)))


def test_errors():
    with pytest.raises(ValueError, match="similarity 'dot'"):
        VectorQuantizer(4, 2, similarity="dot")
    with pytest.raises(ValueError, match="num_codes"):
        VectorQuantizer(0, 2)
    with pytest.raises(ValueError, match="decay"):
        VectorQuantizer(4, 2, decay=1.0)
    with pytest.raises(ValueError, match="eps"):
        VectorQuantizer(4, 2, eps=0.0)
    with pytest.raises(ValueError, match="eps"):
        VectorQuantizer(4, 2, eps=float("inf"))
    with pytest.raises(ValueError, match="dead_code_threshold"):
        VectorQuantizer(4, 2, dead_code_threshold=float("inf"))
    for options, name in (({"num_codes": 4.0, "dim": 2}, "num_codes"),
                          ({"num_codes": True, "dim": 2}, "num_codes"),
                          ({"num_codes": 4, "dim": 2.0}, "dim"),
                          ({"num_codes": 4, "dim": 2, "kmeans_iters": 2.5}, "kmeans_iters")):
        with pytest.raises(ValueError, match=f"{name} must be an integer"):
            VectorQuantizer(**options)
    vq = VectorQuantizer(4, 2)
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(3, 5\)"):
        vq(torch.randn(3, 5))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        vq(torch.randn(2))
    with pytest.raises(ValueError, match="NaN"):
        vq(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ValueError, match="codebook must have shape"):
        vq.set_codebook(torch.randn(3, 2))
    with pytest.raises(ValueError, match="codebook"):
        code_scores(torch.randn(3, 2), torch.randn(4, 3))


@pytest.mark.parametrize("rotation_trick", [False, True])
@pytest.mark.parametrize("similarity", ["cosine", "euclidean"])
def test_matches_vector_quantize_pytorch(similarity, rotation_trick):
    vqp = pytest.importorskip("vector_quantize_pytorch")  # tested with 1.32.0
    ref = vqp.VectorQuantize(dim=4, codebook_size=6, use_cosine_sim=similarity == "cosine",
                             decay=0.8, commitment_weight=0.25, kmeans_init=False,
                             sync_codebook=False, rotation_trick=rotation_trick,
                             threshold_ema_dead_code=0).train()
    ours = VectorQuantizer(6, 4, similarity=similarity, decay=0.8, commitment_weight=0.25,
                           rotation_trick=rotation_trick)
    ours.set_codebook(torch.randn(6, 4))
    ref._codebook.embed.data.copy_(ours.codebook[None])
    ref._codebook.embed_avg.data.copy_(ours.codebook[None])
    ours.train()
    for _ in range(3):  # several EMA steps: the codebooks must stay equal
        x = torch.randn(20, 4)
        x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
        q_ref, i_ref, loss_ref = ref(x_ref)
        out = ours(x_ours)
        assert torch.equal(out.indices, i_ref)
        assert torch.allclose(out.loss, loss_ref, atol=1e-6)
        assert torch.allclose(out.quantized, q_ref, atol=1e-5)
        assert torch.allclose(ours.codebook, ref._codebook.embed[0], atol=1e-5)
        upstream = torch.randn(20, 4)
        ((q_ref * upstream).sum() + loss_ref).backward()
        ((out.quantized * upstream).sum() + out.loss).backward()
        assert torch.allclose(x_ours.grad, x_ref.grad, atol=1e-6)


def test_bad_indices_dtypes_and_codebooks_are_named():
    from gkd.errors import InputError

    with pytest.raises(InputError, match=r"in \[0, 4\); got 0 to 7"):
        codebook_usage(torch.tensor([0, 1, 2, 7]), 4)
    with pytest.raises(InputError, match="must be integers; got torch.float32"):
        codebook_usage(torch.tensor([0.0, 1.0]), 4)
    vq = _vq()
    with pytest.raises(InputError, match="input of torch.float64 for a codebook of torch.float32"):
        vq(torch.zeros(2, 2, dtype=torch.float64))
    with pytest.raises(InputError, match="share a floating-point dtype"):
        code_scores(torch.zeros(2, 2, dtype=torch.float64), CODES)
    with pytest.raises(InputError, match="share a floating-point dtype"):
        code_scores(torch.ones(2, 2, dtype=torch.long), CODES.long(), "cosine")
    with pytest.raises(InputError, match="codebook contains NaN"):
        vq.set_codebook(torch.full((3, 2), float("nan")))
    with pytest.raises(InputError, match="cluster_size must be non-negative"):
        vq.set_codebook(CODES, -torch.ones(3))


@pytest.mark.parametrize("similarity", ["cosine", "euclidean"])
def test_half_precision_ema_statistics_count_beyond_float16(similarity):
    torch.manual_seed(0)
    vq = VectorQuantizer(4, 2, similarity=similarity, decay=0.5).half().train()
    assert vq.cluster_size.dtype == torch.float32 and vq.codebook.dtype == torch.float16
    assert VectorQuantizer(4, 2).double().embed_sum.dtype == torch.float64  # never narrowed
    x = torch.randn(70_000, 2).half()  # a code takes more rows than float16's 65,504
    for _ in range(3):
        before = vq.codebook.clone()
        vq(x)
    assert torch.isfinite(vq.codebook).all() and not torch.equal(before, vq.codebook)
    # three EMA steps from counts of one per code
    assert vq.cluster_size.sum().item() == pytest.approx(4 * 0.5**3 + 70_000 * (1 - 0.5**3))


def test_kmeans_in_half_precision_seeds_from_float32_distances():
    torch.manual_seed(0)
    vq = VectorQuantizer(8, 4, similarity="euclidean", kmeans_init=True).half().train()
    vq((torch.randn(200, 4) * 200).half())  # squared distances beyond float16
    assert torch.isfinite(vq.codebook).all()


def test_dead_codes_beyond_a_batch_are_revived_in_random_turns():
    torch.manual_seed(0)
    vq = VectorQuantizer(32, 2, similarity="euclidean", dead_code_threshold=1.0).train()
    vq.set_codebook(torch.randn(32, 2) * 100)  # far from every row: all dead
    revived = torch.zeros(32, dtype=torch.bool)
    for _ in range(100):
        before = vq.codebook.clone()
        vq(torch.randn(4, 2))  # four rows: four revivals a batch
        revived |= (vq.codebook != before).any(dim=-1)
    assert revived.all()
