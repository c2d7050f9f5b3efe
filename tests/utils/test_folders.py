"""`removed_if_unwritten`: a failed command leaves no empty folder it created, and nothing else goes."""

import pytest

from keras_vit.utils.folders import removed_if_unwritten

pytestmark = pytest.mark.backend_independent(reason="files and folders only")


def _fail_after(action):
    def run(path):
        with pytest.raises(RuntimeError), removed_if_unwritten(path):
            action(path)
            raise RuntimeError("the run failed")

    return run


def test_a_folder_created_and_left_empty_goes_with_the_parents_it_created(tmp_path):
    _fail_after(lambda path: (path / "checkpoints").mkdir(parents=True))(tmp_path / "runs" / "train")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_holds_a_file_stays(tmp_path):
    _fail_after(lambda path: (path.mkdir(parents=True), (path / "log.csv").write_text("epoch\n")))(tmp_path / "run")
    assert (tmp_path / "run" / "log.csv").is_file()


def test_a_folder_that_existed_stays_even_empty(tmp_path):
    (tmp_path / "run").mkdir()
    _fail_after(lambda path: None)(tmp_path / "run")
    assert (tmp_path / "run").is_dir()


def test_a_run_that_succeeds_keeps_its_folder(tmp_path):
    with removed_if_unwritten(tmp_path / "run"):
        (tmp_path / "run").mkdir()
    assert (tmp_path / "run").is_dir()
