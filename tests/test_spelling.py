"""Options named as the user sets them: Python arguments, or the command's flags."""

import threading

from degenet.spelling import option, spelled_as_flags


def test_python_arguments_by_default():
    assert option("solver", "exact") == "solver='exact'"
    assert option("max_epochs") == "max_epochs="
    assert option("learning_rate", 0.01) == "learning_rate=0.01"


def test_flags_inside_the_command():
    with spelled_as_flags():
        assert option("solver", "exact") == "--solver exact"
        assert option("max_epochs", 200) == "--max-epochs 200"
        assert option("file_encoding") == "--encoding"
    assert option("max_epochs") == "max_epochs="  # only inside the block


def test_another_thread_keeps_its_own_spelling():
    seen = []
    with spelled_as_flags():
        worker = threading.Thread(target=lambda: seen.append(option("patience")))
        worker.start()
        worker.join()
    assert seen == ["patience="]  # a new thread starts from the default context
