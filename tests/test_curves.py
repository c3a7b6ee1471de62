"""The learning-curve rule on hand-made curves."""

import numpy as np
import pandas as pd
import pytest

from bench.curves import (F1_RISE, LOSS_FALL_SHARE, UNDERTRAINED_RULE, CurveRecorder, checkpoint_steps,
                          undertrained)

FRACTIONS = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def _curve(val_loss=None, val_f1=None):
    d = {"fraction": FRACTIONS}
    if val_loss is not None:
        d["val_loss"] = val_loss
    if val_f1 is not None:
        d["val_f1"] = val_f1
    return pd.DataFrame(d)


def test_flat_curve_is_not_flagged():
    assert undertrained(_curve([2.0, 0.6, 0.45, 0.41, 0.40, 0.40], [0.0, 0.6, 0.8, 0.85, 0.86, 0.86])) == ""


def test_still_steeply_falling_loss_is_flagged():
    why = undertrained(_curve([2.0, 1.8, 1.6, 1.4, 1.2, 1.0]))
    # last 20%: 1.2 -> 1.0 is 20% of the total fall 1.0
    assert "val loss fell 0.2" in why and "20% of its total fall 1" in why


def test_loss_rule_threshold_is_the_stated_share():
    # total fall 1.0 (2.0 -> 1.0); the last 20% fall is just under / just over LOSS_FALL_SHARE of it
    assert undertrained(_curve([2.0, 1.5, 1.2, 1.1, 1.0 + LOSS_FALL_SHARE * 0.9, 1.0])) == ""
    assert undertrained(_curve([2.0, 1.5, 1.2, 1.1, 1.0 + LOSS_FALL_SHARE * 1.1, 1.0])) != ""


def test_rising_f1_is_flagged_and_small_rise_is_not():
    assert "val F1 rose +0.100" in undertrained(_curve(val_f1=[0, 0.2, 0.4, 0.5, 0.6, 0.7]))
    assert undertrained(_curve(val_f1=[0, 0.2, 0.4, 0.5, 0.6, 0.6 + F1_RISE * 0.9])) == ""


def test_rising_loss_or_nan_points_do_not_fire():
    assert undertrained(_curve([1.0, 1.1, 1.2, 1.3, 1.4, 1.5])) == ""  # diverging: not "still learning"
    assert undertrained(_curve([np.nan, np.nan, np.nan, np.nan, np.nan, 1.0])) == ""
    assert undertrained(pd.DataFrame({"fraction": [], "val_loss": []})) == ""


def test_rule_is_stated_with_its_numbers():
    assert "20%" in UNDERTRAINED_RULE and "10%" in UNDERTRAINED_RULE and "0.03" in UNDERTRAINED_RULE


def test_missing_fraction_column_is_an_error():
    with pytest.raises(ValueError, match="`fraction`"):
        undertrained(pd.DataFrame({"val_loss": [1.0, 0.5]}))


def test_checkpoint_steps_and_recorder_round_trip():
    assert checkpoint_steps(10) == [0, 2, 4, 6, 8, 10]
    assert checkpoint_steps(0) == [0]
    with pytest.raises(ValueError, match="`total`"):
        checkpoint_steps(-1)
    rec = CurveRecorder(total=10, unit="epoch")
    rec.add(0, val_loss=1.0)
    rec.add(10, train_loss=0.5, val_loss=0.5, val_f1=0.9)
    again = CurveRecorder.from_dict(rec.to_dict())
    pd.testing.assert_frame_equal(again.frame(), rec.frame())
    assert rec.frame()["fraction"].tolist() == [0.0, 1.0]
