"""The data stage: a table read, its columns given roles and codes, the design built."""

from degenet._lazy import exports

__getattr__, __dir__, __all__ = exports(__name__, {
    "read_table": "tables", "Encoding": "encoding", "encode": "encoding",
    "Prepared": "prepare", "prepare": "prepare", "data_hash": "prepare",
    "validation_split": "split", "OffsetSpec": "carried"})
