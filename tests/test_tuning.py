"""The import-time process settings: applied where they can be, and easy to turn off."""

import gc
import platform

import pytest

from tinygrad_nnfs._tuning import GC_THRESHOLDS, tune_gc, tune_malloc


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_tune_malloc_applies_on_glibc():
    assert tune_malloc() is True


def test_importing_the_package_made_full_collections_rarer():
    assert gc.get_threshold() == GC_THRESHOLDS


def test_tune_gc_leaves_thresholds_the_user_set():
    previous = gc.get_threshold()
    gc.set_threshold(1000, 20, 20)
    try:
        assert tune_gc() is False
        assert gc.get_threshold() == (1000, 20, 20)
    finally:
        gc.set_threshold(*previous)


def test_tuning_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("TINYGRAD_NNFS_TUNING", "0")
    previous = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        assert tune_malloc() is False
        assert tune_gc() is False
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*previous)
