"""The data stage: a table read, its columns given roles and codes, the design built."""

from degenet.data.encoding import Encoding, encode
from degenet.data.prepare import Prepared, data_hash, prepare
from degenet.data.split import validation_split
from degenet.data.tables import read_table

__all__ = ["Encoding", "Prepared", "data_hash", "encode", "prepare", "read_table",
           "validation_split"]
