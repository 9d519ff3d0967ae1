"""Fit the change-kind head (``narrator.kind_model``) on the training repositories and tune it on the
validation ones.

A multinomial logistic regression over the head's features, its L2 strength picked (of ``L2_GRID``)
by accuracy on the validation repositories; a binary one, at the same strength, for "breaking".
"""

from __future__ import annotations

import math

from narrator.kind_model import KINDS, LAYERS, MAX_LENGTH, KindHead, model_features, rule_features  # noqa: F401

L2_GRID = (1e-4, 1e-3, 1e-2, 3e-2, 1e-1)


def _fit_logistic(x, y, classes: int, l2: float, steps: int = 200):
    """Weights and bias of an L2-regularised (multinomial) logistic regression, by L-BFGS."""
    import torch

    weight = torch.zeros((x.shape[1], classes), requires_grad=True)
    bias = torch.zeros(classes, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weight + bias, y) + l2 * (weight ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weight.detach(), bias.detach()


def fit_head(train_x, train_kinds: list[str], train_breaking: list[bool], val_x, val_kinds: list[str]) -> KindHead:
    """The head whose L2 strength (of ``L2_GRID``) is most accurate on the validation rows."""
    import torch

    mean = train_x.mean(dim=0)
    scale = train_x.std(dim=0).clamp_min(1e-4)
    x, xv = (train_x - mean) / scale, (val_x - mean) / scale
    y = torch.tensor([KINDS.index(k) for k in train_kinds])
    yv = torch.tensor([KINDS.index(k) for k in val_kinds])
    tried = []
    for l2 in L2_GRID:
        weight, bias = _fit_logistic(x, y, len(KINDS), l2)
        accuracy = float(((xv @ weight + bias).argmax(dim=1) == yv).float().mean())
        tried.append((accuracy, -l2, weight, bias))
    accuracy, neg_l2, weight, bias = max(tried, key=lambda t: (t[0], t[1]))
    flags = torch.tensor([int(b) for b in train_breaking])
    if int(flags.sum()) == 0:  # nothing breaking to learn from: never say breaking
        breaking_weight, breaking_bias = torch.zeros((x.shape[1], 2)), torch.tensor([0.0, -math.inf])
    else:
        breaking_weight, breaking_bias = _fit_logistic(x, flags, 2, -neg_l2)
    meta = {"kinds": list(KINDS), "layers": list(LAYERS), "max_length": MAX_LENGTH, "l2": -neg_l2,
            "val_accuracy": round(accuracy, 4), "l2_tried": {str(-t[1]): round(t[0], 4) for t in tried}}
    return KindHead(mean, scale, weight, bias, breaking_weight, breaking_bias, meta)
