"""Fit the change-kind head (``narrator.model.kind_model``) on the training repositories and tune it on the
validation ones.

A multinomial logistic regression over the head's features, its L2 strength picked (of ``L2_GRID``)
by accuracy on the validation repositories; a binary one, at the same strength, for "breaking".
"""

from __future__ import annotations

import math

from narrator.model.kind_model import KINDS, LAYERS, MAX_LENGTH, KindHead

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


def fit_head(train_x, train_kinds: list[str], train_breaking: list[bool], val_x, val_kinds: list[str],
             meta: dict | None = None) -> KindHead:
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
    meta = {**(meta or {}), "kinds": list(KINDS), "layers": list(LAYERS), "max_length": MAX_LENGTH, "l2": -neg_l2,
            "val_accuracy": round(accuracy, 4), "l2_tried": {str(-t[1]): round(t[0], 4) for t in tried}}
    return KindHead(mean, scale, weight, bias, breaking_weight, breaking_bias, meta)


# --- features of held-out cases, the method and the measurement -------------------------------------


def vocabulary_of(cases, min_count: int = 3) -> list[str]:
    """The words-and-paths tokens (``kind_model.word_tokens``) met in at least ``min_count`` of ``cases``."""
    from collections import Counter

    from narrator.model.kind_model import word_tokens

    counts = Counter(token for case in cases for token in word_tokens(case.row.subject, case.row.paths, case.row.patch))
    return sorted(token for token, n in counts.items() if n >= min_count)


def case_features(model, tokenizer, cases, meta: dict, batch_size: int = 8, progress=None) -> dict:
    """What the head and its measurement need of ``cases`` (``briefing_eval.KindCase``): the features
    ``meta`` names (``kind_model.head_features``), the rules' answers, the developers' labels and each
    case's repository."""
    from narrator.model.kind_model import head_features, rules_kind, rules_sure

    items = [(case.row.subject, case.row.paths, case.row.patch) for case in cases]
    rules = [rules_kind(*item) for item in items]
    return {"x": head_features(meta, model, tokenizer, items, batch_size, progress, rules),
            "rule_kinds": [kind for kind, _ in rules], "rule_breaking": [flag for _, flag in rules],
            "sure": [rules_sure(case.row.paths) for case in cases],
            "kinds": [case.row.kind for case in cases], "breaking": [case.row.breaking for case in cases],
            "repos": [case.row.repo for case in cases]}


METHODS = ("head", "rules+head")
"""How the head's answer is used: for every commit, or only where the rules are not sure."""
BREAKING_METHODS = ("rules", "head", "either")


def answers(head: KindHead, data: dict, method: str, breaking_method: str) -> list[tuple[str, bool]]:
    """``(kind, breaking)`` of every case of ``data`` by ``method`` and ``breaking_method``, as narration
    decides them (``kind_model.decide``)."""
    from narrator.model.kind_model import decide

    said = decide(head.predict(data["x"]), list(zip(data["rule_kinds"], data["rule_breaking"])), data["sure"],
                  method, breaking_method)
    return [(answer["kind"], answer["breaking"]) for answer in said]


def _f1(pairs: list[tuple[bool, bool]]) -> float:
    tp = sum(1 for want, got in pairs if want and got)
    said, actual = sum(1 for _, got in pairs if got), sum(1 for want, _ in pairs if want)
    return 2 * tp / (said + actual) if said + actual else 0.0


def choose_method(head: KindHead, val: dict) -> tuple[str, str]:
    """The kind method (``METHODS``) most accurate on the validation cases, and the breaking method
    (``BREAKING_METHODS``) with the best F1 there (ties: the rules, then the simpler)."""
    def accuracy(method):
        return sum(a == b for (a, _), b in zip(answers(head, val, method, "rules"), val["kinds"])) / max(1, len(val["kinds"]))

    method = max(METHODS, key=lambda m: (accuracy(m), m == "rules+head"))
    breaking = max(BREAKING_METHODS, key=lambda b: (_f1(list(zip(val["breaking"], [f for _, f in answers(head, val, method, b)]))),
                                                   -BREAKING_METHODS.index(b)))
    return method, breaking


def measure(head: KindHead, test: dict, method: str, breaking_method: str) -> dict:
    """The rules and the head's chosen method on the test cases: ``kinds_report`` each, and the head's
    accuracy minus the rules' with a paired 95% bootstrap interval (cases resampled together)."""
    from training.bootstrap import bootstrap_ci
    from training.briefing_tasks import kinds_report

    rules = list(zip(test["rule_kinds"], test["rule_breaking"]))
    model = answers(head, test, method, breaking_method)
    report = {}
    for name, predicted in (("rules", rules), (method, model)):
        report[name] = kinds_report(list(zip(test["kinds"], [k for k, _ in predicted])),
                                    list(zip(test["breaking"], [f for _, f in predicted])))
    differences = [float(m[0] == want) - float(r[0] == want) for want, r, m in zip(test["kinds"], rules, model)]
    low, high = bootstrap_ci(differences)
    report[method]["vs_rules"] = {"difference": round(sum(differences) / len(differences), 4),
                                  "ci95": [round(low, 4), round(high, 4)]}
    return {"examples": len(test["kinds"]), "repositories": len(set(test["repos"])), "method": method,
            "breaking_method": breaking_method, "methods": report,
            "predictions": {"label": test["kinds"], "rules": [k for k, _ in rules], method: [k for k, _ in model],
                            "repo": test["repos"]}}
