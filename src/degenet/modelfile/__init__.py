"""Model files that are safe to open: a folder with a ``.keras`` archive and a JSON sidecar.

Layout of a model folder ``MODEL/``::

    MODEL/model.keras     the Keras network (architecture + weights, no code)
    MODEL/degenet.json    the sidecar: what the model is, how its inputs are encoded, its
                          coefficients, how and on what it was trained, and the sha256 of
                          model.keras

Sidecar keys: ``format`` ("degenet-model"), ``format_version`` (1), ``created``, ``model``
(the spec, e.g. ``mlp:64,32``), ``hidden``, ``family``, ``classes``, ``reference``,
``intercept``, ``n_features``, ``n_outputs``, ``encoding`` (``Encoding.to_dict()``),
``scaling`` (``Scaling.to_dict()``), ``coefficients`` (the coefficient table as records, or
null for networks), ``settings`` (``TrainSettings.to_dict()``), ``seed``, ``training``
(epochs, best epoch, val_loss, engine, rows), ``data_sha256`` (of the training design,
target and weights), ``estimator`` (class and parameters, when saved from one),
``versions`` (degenet, keras, backend, backend_version, python), ``offset`` (``{"column",
"exposure"}``: new data must carry that column, its log added to the linear predictor when
``exposure``; null without an offset), ``inference`` (``cov_type``, ``groups``, ``n_groups``
of the coefficient table's std errors), ``exact_weights`` (a ``solver="exact"`` fit's
float64 beta and alpha, which predictions use), ``keras_sha256`` and ``sidecar_sha256``
(of the rest of the sidecar; files written before it existed lack it, and are still read).

Saving writes the folder whole or not at all, under a lock, and never over a link or a
folder of the user's (:mod:`degenet.modelfile.atomic`); a model is replaced only with
``overwrite=True``.

Opening a model never runs code from the file. Nothing is pickled; the network holds only
``InputLayer``, ``Dense``, ``Activation`` and (with an offset) ``Add`` layers (no
``Lambda``). Before Keras sees the archive, :func:`load` checks the sidecar (size, depth,
its own sha256, every key's type and size: :mod:`degenet.modelfile.schema`), the archive's
sha256 against the sidecar (a truncated or edited file is refused), the archive's members
and their sizes before any is inflated, every ``class_name`` in the archive's
``config.json`` against the short list of classes degenet writes, and the sidecar against
the archive's layers (inputs, widths, outputs, intercept, the family's head:
:mod:`degenet.modelfile.consistency`). Keras then
loads it with ``safe_mode=True`` and without compiling, so no loss, optimizer or
activation is looked up by anything but its registered name.
"""

from degenet._lazy import exports

__getattr__, __dir__, __all__ = exports(__name__, {
    "SavedModel": "load", "load": "load", "verify": "load", "check_destination": "atomic",
    "save": "save", "describe": "sidecar", "read_sidecar": "sidecar"})
