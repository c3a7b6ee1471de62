"""``random_forest``: an ilastik-like random-forest pixel classifier."""

from __future__ import annotations

from dataclasses import dataclass

from .pixel import PixelClassifierMethod, PixelParams

__all__ = ["RandomForest", "RandomForestParams"]

#: Trees per profile when ``n_estimators`` is None.
N_ESTIMATORS = {"ci": 10, "quick": 32, "full": 100}


@dataclass(frozen=True)
class RandomForestParams(PixelParams):
    """Parameters of :class:`RandomForest` (see :class:`~bench.methods.classical.pixel.PixelParams`).

    Attributes
    ----------
    n_estimators : int or None
        Trees; None: 10 / 32 / 100 for the ci / quick / full profiles
        (ilastik: 100).
    max_depth : int or None
        Maximum tree depth (None: grown until pure, as in ilastik/vigra);
        a cap makes prediction faster.
    """

    n_estimators: int | None = None
    max_depth: int | None = None

    def validate(self) -> None:
        super().validate()
        if self.n_estimators is not None and self.n_estimators < 1:
            raise ValueError(f"parameter `n_estimators` must be >= 1, got {self.n_estimators}")
        if self.max_depth is not None and self.max_depth < 1:
            raise ValueError(f"parameter `max_depth` must be >= 1 or None, got {self.max_depth}")


class RandomForest(PixelClassifierMethod):
    """ilastik-like pixel classification with a random forest.

    ilastik's pixel-classification workflow (Berg et al., 2019), without the
    GUI: ilastik's default filter bank -- Gaussian smoothing, Laplacian of
    Gaussian, Gaussian gradient magnitude, difference of Gaussians, structure
    tensor eigenvalues and Hessian of Gaussian eigenvalues at scales 0.3-10 px
    (:mod:`~bench.methods.classical.features`) -- computed on every normalised
    channel, and a random forest (Breiman, 2001; ``sqrt`` features per split as
    ilastik's vigra forest; ilastik's 100 trees in the full profile, 32 in the
    quick one) trained on a class-balanced sample of training pixels (background / object
    interior / object border, or the semantic classes; see
    :mod:`~bench.methods.classical.pixel`). The
    probability map becomes instances by thresholding the object probability
    and a watershed seeded by the confidently interior pixels; the thresholds
    are tuned on the validation images by F1 at IoU 0.5. On a semantic dataset
    the prediction is the most probable class of each pixel.

    LysoQuant's Figure 1 (Morone et al., 2020) compares ilastik's random forest
    with IsoData, Weka, SVM and Hough segmentation of LAMP1 endolysosomes.

    References
    ----------
    S. Berg et al., "ilastik: interactive machine learning for (bio)image
    analysis", Nat Methods 16, 1226-1232 (2019). :doi:`10.1038/s41592-019-0582-9`;
    L. Breiman, "Random forests", Mach Learn 45, 5-32 (2001).
    :doi:`10.1023/A:1010933404324`;
    D. Morone et al. (LysoQuant), Mol Biol Cell 31(14), 1512-1524 (2020).
    :doi:`10.1091/mbc.E20-04-0269`
    """

    name = "random_forest"
    Params = RandomForestParams
    reference = "ilastik pixel classification, Berg et al. 2019; Breiman 2001"

    def _make_model(self, seed: int, n_features: int):
        from sklearn.ensemble import RandomForestClassifier

        n_estimators = self.params.budget("n_estimators", N_ESTIMATORS)
        self.state["budget"]["n_estimators"] = n_estimators
        return RandomForestClassifier(
            n_estimators=n_estimators,
            max_depth=self.params.max_depth,
            max_features="sqrt",
            n_jobs=1,
            random_state=seed,
        )
