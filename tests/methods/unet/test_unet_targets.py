import numpy as np
import pytest

from bench.methods.unet._targets import BOUNDARY, boundary_mask, instance_targets


def test_isolated_disc_keeps_interior_and_has_rim():
    yy, xx = np.mgrid[:21, :21]
    lab = ((yy - 10) ** 2 + (xx - 10) ** 2 <= 64).astype(np.int32)
    b = boundary_mask(lab)
    # the rim: object pixels with a 4-neighbour outside
    assert b[10, 2] and b[2, 10] and not b[10, 10]
    assert not b[lab == 0].any()
    t = instance_targets(lab, None, 1)
    assert (t[b] == BOUNDARY).all() and (t[(lab > 0) & ~b] == 2).all() and (t[lab == 0] == 0).all()


def test_small_objects_keep_their_rim_as_interior():
    lab = np.zeros((6, 6), np.int32)
    lab[1:3, 1:3] = 1  # 4 pixels, all rim
    assert not boundary_mask(lab).any()
    assert (instance_targets(lab, None, 1)[1:3, 1:3] == 2).all()


def test_touching_objects_are_cut_apart():
    lab = np.zeros((4, 8), np.int32)
    lab[:, :4] = 1
    lab[:, 4:] = 2
    t = instance_targets(lab, {1: 1, 2: 0}, 2)
    assert (t[:, 3:5] == BOUNDARY).all()
    assert (t[:, :3] == 3).all() and (t[:, 5:] == 2).all()


def test_targets_reject_missing_or_bad_classes():
    lab = np.zeros((4, 4), np.int32)
    lab[1:3, 1:3] = 5
    with pytest.raises(ValueError, match="no class for object"):
        instance_targets(lab, {1: 0}, 2)
    with pytest.raises(ValueError, match="outside 0..1"):
        instance_targets(lab, {5: 2}, 2)
    with pytest.raises(ValueError, match="`labels` must be a 2-D integer"):
        boundary_mask(np.zeros((2, 2, 2), np.int32))


def test_relabelling_does_not_change_targets():
    lab = np.zeros((30, 30), np.int32)
    lab[2:12, 2:12] = 1
    lab[2:12, 12:22] = 2
    lab[15:28, 5:20] = 3
    perm = np.array([0, 7, 3, 9])
    t1 = instance_targets(lab, {1: 0, 2: 1, 3: 0}, 2)
    t2 = instance_targets(perm[lab].astype(np.int32), {7: 0, 3: 1, 9: 0}, 2)
    np.testing.assert_array_equal(t1, t2)
