"""statsmodels' names for a regression's figures, on degenet's results object.

:class:`StatsmodelsNames` is mixed into :class:`~degenet.exact.results.RegressionResults`,
so a fit read as a regression answers as statsmodels' ``GLMResults`` / ``RegressionResults``
do: ``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int()``, ``cov_params()``,
``llf``, ``llnull``, ``deviance``, ``aic``, ``bic``, ``nobs``, ``df_model``, ``df_resid``,
``fittedvalues``, ``resid_response``, ``resid_deviance``, ``resid_pearson``, ``predict``,
``rsquared`` / ``prsquared`` and ``summary()``. Each is read off the coefficient table
(``fit.coefficients``: the same values, the same covariance type) or off the training rows'
target and linear predictor, which the results object keeps (8 bytes per row for ``y`` and
8 per output for ``eta``: 16 MB for 1,000,000 rows of a single-output family).

Conventions, where statsmodels' own classes differ: ``fittedvalues`` is the mean ``mu``
(as ``GLMResults``; class probabilities for classes), residuals and Pearson residuals are
those of a GLM (``(y - mu) / sqrt(V(mu))``, without the dispersion), ``bic`` is
``-2 llf + k log n`` (statsmodels' ``bic_llf``), and ``aic`` counts the ``k`` coefficients
(not the gaussian variance: OLS's convention).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet.errors import DegenetError
from degenet.exact.inference import table_covariance


class StatsmodelsNames:
    """The statsmodels-named figures of :class:`~degenet.exact.results.RegressionResults`."""

    # -- the coefficient table -------------------------------------------------------------
    @property
    def params(self) -> pd.Series:
        """The estimates, indexed by term (``(class, term)`` for contrasts)."""
        return self.coefficient_table()["estimate"]

    @property
    def bse(self) -> pd.Series:
        """The std errors (of the covariance type chosen with ``cov_type``)."""
        return self.coefficient_table()["std_error"]

    @property
    def tvalues(self) -> pd.Series:
        """The t (gaussian) or z statistics."""
        return self.coefficient_table()["statistic"]

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values; NaN when withheld (separation, no convergence)."""
        return self.coefficient_table()["p_value"]

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Intervals at level ``1 - alpha``: columns ``0`` (low) and ``1`` (high)."""
        if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
            raise DegenetError(f"alpha must be a number between 0 and 1; received {alpha!r}")
        table = self.coefficient_table(1.0 - alpha)
        return table[["ci_low", "ci_high"]].set_axis([0, 1], axis=1)

    def cov_params(self) -> pd.DataFrame:
        """The covariance of the estimates, rows and columns in the table's order."""
        f = self.fitted
        n_classes = len(f.classes) if f.family.contrasts else None
        reference = (f.classes.index(f.reference if f.reference is not None else f.classes[0])
                     if n_classes else 0)
        matrix = table_covariance(f.family, self.cov.of(self.solution), n_classes, reference)
        index = self.params.index
        return pd.DataFrame(matrix, index=index, columns=index)

    # -- the fit's figures -----------------------------------------------------------------
    @property
    def llf(self) -> float:
        """The full log-likelihood (constants included) at the estimates."""
        return self.log_likelihood

    @property
    def llnull(self) -> float:
        """The log-likelihood of the intercept-only model (with the offset, if any)."""
        return self.null_log_likelihood

    @property
    def nobs(self) -> float:
        """Rows (the sum of the weights)."""
        return self.n_samples

    @property
    def df_model(self) -> float:
        """Coefficients but the intercept(s)."""
        outputs = self.fitted.family.n_free(self.solution.alpha.shape[0])
        return float(self.n_params - outputs * int(self.fitted.intercept))

    @property
    def df_resid(self) -> float:
        return float(self.solution.df_residual)

    @property
    def scale(self) -> float:
        """The dispersion: ``RSS / df_resid`` (gaussian), 1 for the other families."""
        return float(self.solution.dispersion)

    @property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        return -2.0 * self.llf + self.n_params * np.log(self.nobs)

    @property
    def rsquared(self) -> float:
        """``1 - RSS / TSS`` (TSS about the mean; about 0 without an intercept); gaussian."""
        if not self.fitted.family.scale_estimated:
            raise DegenetError(f"rsquared is for the gaussian family; a {self.fitted.family.name}"
                               " fit has prsquared (McFadden's pseudo R-squared)")
        return 1.0 - self.deviance / self.null_deviance

    @property
    def rsquared_adj(self) -> float:
        """R-squared adjusted for the degrees of freedom (gaussian)."""
        n = self.nobs if self.fitted.intercept else self.nobs + 1.0
        return 1.0 - (1.0 - self.rsquared) * (n - 1.0) / self.df_resid

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo R-squared, ``1 - llf / llnull``."""
        return 1.0 - self.llf / self.llnull

    # -- rows ------------------------------------------------------------------------------
    @property
    def fittedvalues(self) -> np.ndarray:
        """The mean of each training row, ``(n,)`` (class probabilities ``(n, n_classes)``)."""
        return self.fitted.family.mean(self.eta)

    @property
    def resid_response(self) -> np.ndarray:
        """``y - mu`` on the training rows (classes: indicator minus probability, per class)."""
        return self._observed() - self.fittedvalues

    @property
    def resid_pearson(self) -> np.ndarray:
        """``(y - mu) / sqrt(V(mu))``, the family's variance function ``V``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.resid_response / np.sqrt(self.fitted.family.variance(self.fittedvalues))

    @property
    def resid_deviance(self) -> np.ndarray:
        """``sign(y - mu) sqrt(d_i)``, ``d_i`` each row's deviance (classes: no sign)."""
        family = self.fitted.family
        root = np.sqrt(np.maximum(family.unit_deviance(self.y, self.eta), 0.0))
        return root if family.contrasts else np.sign(self.resid_response) * root

    def predict(self, exog: np.ndarray | None = None, *, offset=None, exposure=None,
                which: str = "mean") -> np.ndarray:
        """The mean (``which="mean"``) or linear predictor (``"linear"``) at the estimates.

        Parameters
        ----------
        exog : ndarray, shape (n_samples, n_features), optional
            Design rows in the data's units, without the intercept column (the encoded
            terms, ``fit.terms``); default the training rows (no offset argument then).
        offset, exposure : ndarray, shape (n_samples,), optional
            Added to the linear predictor (an exposure as its log).
        """
        if which not in ("mean", "linear"):
            raise DegenetError(f"which must be 'mean' or 'linear'; received {which!r}")
        family = self.fitted.family
        if exog is None:
            eta = self.eta
        else:
            exog = np.asarray(exog, dtype=np.float64)
            if exog.ndim != 2 or exog.shape[1] != self.beta.shape[0]:
                raise DegenetError(f"exog must have shape (n, {self.beta.shape[0]}), one column "
                                   f"per term; received shape {exog.shape}")
            eta = exog @ self.beta + self.alpha
            extra = offset if exposure is None else np.log(np.asarray(exposure, float))
            if (extra is None) != (self.offset is None):
                raise DegenetError("pass offset= or exposure= exactly when the model was "
                                   "fitted with one (it is part of the linear predictor)")
            eta = family.squeeze(eta if extra is None else eta + np.reshape(extra, (-1, 1)))
        return eta if which == "linear" else family.mean(eta)

    def _observed(self) -> np.ndarray:
        """``y`` as the mean's shape: the class indicators for classes."""
        if not self.fitted.family.contrasts:
            return self.y
        return np.eye(self.eta.shape[1])[self.y.astype(np.int64)]

    @property
    def vif(self) -> pd.Series:
        """Variance inflation factors of the terms (NaN for a dropped, collinear term)."""
        vif = self.diagnostics.vif
        terms = list(self.fitted.terms)
        return pd.Series(np.full(len(terms), np.nan) if vif is None else vif,
                         index=pd.Index(terms, name="term"), name="vif")
