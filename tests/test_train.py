import torch

from gkd.train import fit


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
