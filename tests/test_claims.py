"""The verdict rule on hand-made per-image tables."""

import numpy as np
import pandas as pd
import pytest

from bench.claims import VERDICTS, claim_verdict, per_image_scores


def _table(means: dict, *, n_images=10, seeds=(0, 1, 2), noise=0.0, rng=0):
    gen = np.random.default_rng(rng)
    img_effect = gen.uniform(-0.2, 0.2, n_images)  # shared image difficulty: pairing removes it
    rows = []
    for m, mu in means.items():
        for s in seeds:
            for i in range(n_images):
                rows.append({"method_id": m, "seed": s, "image": f"img{i}",
                             "score": mu + img_effect[i] + noise * gen.standard_normal()})
    return pd.DataFrame(rows)


def test_clear_win_in_the_papers_direction_reproduces():
    v = claim_verdict(_table({"a": 0.8, "b": 0.6}, noise=0.02), better="a", worse="b")
    assert v.verdict == VERDICTS[0] and v.low > 0 and v.diff == pytest.approx(0.2, abs=0.02)
    assert v.n_images == 10 and v.n_seeds == (3, 3) and len(v.seed_means["a"]) == 3


def test_clear_win_the_other_way_does_not_reproduce():
    v = claim_verdict(_table({"a": 0.6, "b": 0.8}, noise=0.02), better="a", worse="b")
    assert v.verdict == "does not reproduce" and v.high < 0


def test_identical_methods_are_not_distinguishable():
    t = _table({"a": 0.7}, noise=0.05)
    t = pd.concat([t, t.assign(method_id="b")])
    v = claim_verdict(t, better="a", worse="b")
    assert v.verdict == "not distinguishable at this budget" and v.low <= 0 <= v.high and v.diff == 0


def test_seed_spread_widens_the_interval():
    # one seed of `a` is bad: averaged over seeds a still wins by 0.05, but seeds disagree
    t = _table({"a": 0.75, "b": 0.7})
    t.loc[(t["method_id"] == "a") & (t["seed"] == 2), "score"] -= 0.45
    t.loc[(t["method_id"] == "a") & (t["seed"] != 2), "score"] += 0.2
    v = claim_verdict(t, better="a", worse="b")
    assert v.diff > 0 and v.verdict == "not distinguishable at this budget"
    one_seed = claim_verdict(t[t["seed"] == 0], better="a", worse="b")
    assert one_seed.verdict == "reproduces"


def test_only_shared_images_are_compared_and_errors_name_the_problem():
    t = _table({"a": 0.8, "b": 0.6})
    t = t[~((t["method_id"] == "b") & (t["image"] == "img0"))]
    assert claim_verdict(t, better="a", worse="b").n_images == 9
    with pytest.raises(ValueError, match="no test image scored for both"):
        claim_verdict(t, better="a", worse="c")
    with pytest.raises(ValueError, match="lacks column"):
        claim_verdict(t.drop(columns="seed"), better="a", worse="b")


def test_per_image_scores_from_instance_rows():
    rows = pd.DataFrame({
        "dataset": "d", "split": "test", "method_id": ["a", "a"], "method": "m", "seed": [0, 1], "profile": "ci",
        "image": ["i0", "i0"], "threshold": 0.5, "criterion": "iou", "n_true": [2, 2], "n_pred": [2, 1], "tp": [2, 1], "fp": [0, 0],
        "fn": [0, 1], "sum_matched_iou": [1.8, 0.9],
    })
    s = per_image_scores(rows)
    assert s["score"].tolist() == pytest.approx([1.0, 2 / 3])
