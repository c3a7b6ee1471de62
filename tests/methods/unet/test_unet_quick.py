"""The quick profile on a real benchmark dataset learns (slow: ~1 min of CPU)."""

import numpy as np
import pytest

pytest.importorskip("torch")

from bench.methods import get_method  # noqa: E402
from bench.metrics import match_dataset  # noqa: E402
from bench.splits import load_fit_data, load_test_images, load_test_truth  # noqa: E402


@pytest.mark.slow
def test_quick_profile_beats_an_untrained_network_on_synth_lyso_easy():
    train, val = load_fit_data("synth-lyso-easy")
    test = load_test_images("synth-lyso-easy", limit=4)
    truth = load_test_truth("synth-lyso-easy", limit=4)
    scores = {}
    for iterations in (None, 0):
        m = get_method("unet", profile="quick", iterations=iterations).fit(train, val, rng=0)
        preds = [m.predict(s.image) for s in test]
        scores[iterations] = match_dataset(y_true=[t.labels for t in truth], y_pred=preds).f1
        if iterations is None:
            loss = np.asarray(m.history["loss"])
            assert loss[-10:].mean() < 0.6 * loss[:10].mean()
    assert scores[None] >= 0.8, scores
    assert scores[None] >= scores[0] + 0.4, scores
