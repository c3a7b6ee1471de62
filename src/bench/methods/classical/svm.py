"""``svm``: the ilastik-like pixel features with a support vector machine."""

from __future__ import annotations

from dataclasses import dataclass

from .pixel import PixelClassifierMethod, PixelParams

__all__ = ["SVM", "SVMParams"]

#: Nystroem components per profile when ``n_components`` is None.
N_COMPONENTS = {"ci": 50, "quick": 100, "full": 300}


@dataclass(frozen=True)
class SVMParams(PixelParams):
    """Parameters of :class:`SVM` (see :class:`~bench.methods.classical.pixel.PixelParams`).

    Attributes
    ----------
    C : float
        Soft-margin penalty of the linear SVM on the kernel features.
    n_components : int or None
        Nystroem components approximating the RBF kernel; None: 50 / 100 /
        300 for the ci / quick / full profiles. Prediction costs
        ``n_components x (n_features + n_components)`` operations per pixel.
    gamma : float or None
        RBF width on standardised features; None: ``1 / n_features``.
    """

    C: float = 1.0
    n_components: int | None = None
    gamma: float | None = None

    def validate(self) -> None:
        super().validate()
        if self.C <= 0:
            raise ValueError(f"parameter `C` must be > 0, got {self.C}")
        if self.n_components is not None and self.n_components < 2:
            raise ValueError(f"parameter `n_components` must be >= 2, got {self.n_components}")
        if self.gamma is not None and self.gamma <= 0:
            raise ValueError(f"parameter `gamma` must be > 0 or None, got {self.gamma}")


class SVM(PixelClassifierMethod):
    """Pixel classification with an RBF support vector machine (Nystroem approximation).

    The same ilastik-like features, training pixels, post-processing and
    tuning as ``random_forest`` (see :mod:`~bench.methods.classical.pixel`),
    with a support vector machine (Cortes & Vapnik, 1995) as classifier, as in
    LysoQuant's Figure 1 (Morone et al., 2020).

    **Choice of SVM.** An exact RBF-kernel SVM predicts each pixel against all
    its support vectors: with thousands of them and ~150 features a single
    256x256 image costs ~10^10 kernel operations, far beyond the CPU budget.
    Here the RBF kernel ``exp(-gamma |x - x'|^2)`` on standardised features is
    approximated by a Nystroem feature map of ``n_components`` landmark pixels
    (Williams & Seeger, 2001), and a linear SVM (liblinear, squared hinge) is
    trained in that space on a class-balanced sample of ``n_pixels`` pixels
    (1,000 / 4,000 / 10,000 for the ci / quick / full profiles);
    its decision values are turned into class probabilities by Platt (sigmoid)
    calibration fitted by 3-fold cross-validation on the same pixels. Prediction
    is then two dense matrix products per pixel block.

    References
    ----------
    C. Cortes, V. Vapnik, "Support-vector networks", Mach Learn 20, 273-297
    (1995). :doi:`10.1007/BF00994018`;
    C. Williams, M. Seeger, "Using the Nystroem method to speed up kernel
    machines", NIPS 13 (2001);
    J. Platt, "Probabilistic outputs for support vector machines" (1999);
    D. Morone et al. (LysoQuant), Mol Biol Cell 31(14), 1512-1524 (2020).
    :doi:`10.1091/mbc.E20-04-0269`
    """

    name = "svm"
    Params = SVMParams
    #: fewer training pixels than the forest: the kernel map is the cost
    n_pixels = {"ci": 1000, "quick": 4000, "full": 10000}
    reference = "Cortes & Vapnik 1995 (SVM), Nystroem RBF approximation; as in LysoQuant (Morone et al. 2020)"

    def _make_model(self, seed: int, n_features: int):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.kernel_approximation import Nystroem
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, StandardScaler
        from sklearn.svm import LinearSVC

        gamma = self.params.gamma if self.params.gamma is not None else 1.0 / n_features
        n_components = self.params.budget("n_components", N_COMPONENTS)
        self.state["budget"]["n_components"] = n_components
        return make_pipeline(
            # float64 keeps scikit-learn on its fast BLAS path for the kernel map
            FunctionTransformer(_as_float64),
            StandardScaler(),
            Nystroem(kernel="rbf", gamma=gamma, n_components=n_components, random_state=seed),
            CalibratedClassifierCV(
                LinearSVC(C=self.params.C, random_state=seed), method="sigmoid", cv=3, ensemble=False
            ),
        )


def _as_float64(x):
    import numpy as np

    return np.asarray(x, dtype=np.float64)
