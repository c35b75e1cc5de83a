"""The import-time malloc tuning: on glibc it applies, and the environment can turn it off."""

import platform

import pytest

from tinygrad_nnfs._malloc import tune_malloc


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_tune_malloc_applies_on_glibc():
    assert tune_malloc() is True


def test_tune_malloc_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("TINYGRAD_NNFS_MALLOC_TUNING", "0")
    assert tune_malloc() is False
