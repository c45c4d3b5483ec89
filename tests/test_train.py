import math

import pytest
import torch

from gkd.errors import GkdError
from gkd.train import fit, optimizer_step, split_batches


def _counting_model():
    """A one-weight model whose weight counts the epochs trained."""
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)

    def train_epoch():
        with torch.no_grad():
            model.weight += 1.0
        return 0.5

    return model, train_epoch


def test_fit_restores_the_best_epoch_and_prefers_later_ties():
    model, train_epoch = _counting_model()
    scores = iter([1.0, 3.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0])
    history = fit(model, train_epoch, lambda: next(scores), max_epochs=8, patience=3)
    assert history.best_epoch == 4 and history.best_val == 3.0  # tie at 2 and 4: later wins
    assert history.epochs == 7  # stopped after 3 epochs without improvement
    assert model.weight.item() == 4.0  # the parameters of epoch 4
    assert not model.training and history.loss == [0.5] * 7


def test_fit_runs_the_whole_budget_while_improving():
    model, train_epoch = _counting_model()
    scores = iter(range(5))
    history = fit(model, train_epoch, lambda: next(scores), max_epochs=5, patience=1)
    assert (history.best_epoch, history.epochs, model.weight.item()) == (5, 5, 5.0)


@pytest.mark.parametrize("max_epochs, patience", [(0, 10), (10, 0)])
def test_fit_refuses_an_empty_budget(max_epochs, patience):
    model, train_epoch = _counting_model()
    with pytest.raises(GkdError, match="max_epochs and patience of at least 1"):
        fit(model, train_epoch, lambda: 0.0, max_epochs=max_epochs, patience=patience)
    assert model.weight.item() == 0.0


def test_optimizer_step_clips_the_gradient_norm_before_stepping():
    weight = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    loss = (weight * torch.tensor([3.0, 4.0])).sum()  # gradient (3, 4), norm 5
    returned = optimizer_step(optimizer, loss, grad_clip=1.0)
    # the loss before the step, left on its device as a tensor: no read-back per step
    assert isinstance(returned, torch.Tensor) and not returned.requires_grad
    assert returned.item() == 0.0
    assert torch.allclose(weight.detach(), torch.tensor([-0.6, -0.8]))  # clipped to norm 1
    loss = (weight * torch.tensor([3.0, 4.0])).sum()
    optimizer_step(optimizer, loss)  # no clip: the full gradient, and stale ones cleared
    assert torch.allclose(weight.detach(), torch.tensor([-3.6, -4.8]))


def test_a_diverged_loss_stops_training_at_the_best_epoch_before_it():
    model, _ = _counting_model()
    losses = iter([0.5, 0.4, float("nan"), 0.3])

    def train_epoch():
        with torch.no_grad():
            model.weight += 1.0
        return next(losses)

    with pytest.warns(UserWarning, match="loss is nan at epoch 3; training stops and "
                                         "keeps epoch 2"):
        history = fit(model, train_epoch, lambda: model.weight.item(), max_epochs=4,
                      patience=4)
    assert history.best_epoch == 2 and model.weight.item() == 2.0 and history.loss == [0.5, 0.4]


def test_a_loss_that_is_not_finite_from_the_start_is_an_error():
    model, _ = _counting_model()
    with pytest.raises(GkdError, match="training loss is inf at epoch 1, before any epoch "
                                       "to keep"):
        fit(model, lambda: float("inf"), lambda: 0.0, max_epochs=3, patience=3)


def test_a_validation_score_that_is_not_finite_is_an_error():
    model, _ = _counting_model()
    with pytest.raises(GkdError, match="validation score of epoch 1 is nan"):
        fit(model, lambda: 0.5, lambda: float("nan"), max_epochs=3, patience=3)


def test_an_update_that_diverges_is_never_the_kept_epoch():
    # the loss is computed before the epoch's update: finite, though the update blew up
    model, _ = _counting_model()
    updates = iter([1.0, float("nan")])

    def train_epoch():
        with torch.no_grad():
            model.weight += next(updates)
        return 0.5

    with pytest.warns(UserWarning, match="parameters are no longer finite at epoch 2; "
                                         "training stops and keeps epoch 1"):
        history = fit(model, train_epoch, lambda: 0.0, max_epochs=3, patience=3)
    assert history.best_epoch == 1 and model.weight.item() == 1.0

    def blow_up():
        model.weight.data.fill_(math.inf)
        return 0.5

    with pytest.raises(GkdError, match="parameters are no longer finite at epoch 1, before "
                                       "any epoch to keep"):
        fit(model, blow_up, lambda: 0.0, max_epochs=3, patience=3)


def test_a_lone_last_node_joins_the_batch_before_unless_batches_are_single_nodes():
    nodes = torch.arange(9)
    assert [b.tolist() for b in split_batches(nodes, 4)] == [[0, 1, 2, 3], [4, 5, 6, 7, 8]]
    assert [b.numel() for b in split_batches(nodes, 3)] == [3, 3, 3]
    assert [b.numel() for b in split_batches(nodes, 1)] == [1] * 9
    assert [b.tolist() for b in split_batches(nodes[:1], 4)] == [[0]]
